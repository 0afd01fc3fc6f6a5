#include "ingress/signature.hpp"

#include <gtest/gtest.h>

#include "core/hmac_sha256.hpp"

using namespace spacehook;
using namespace spacehook::ingress;

namespace {
// A compact body as DocSpace sends it (docs/docspace-api.md §1.3, §1.6).
const std::string kBody =
    R"({"event":{"id":4821,"createOn":"2026-06-30T10:15:42Z","trigger":"file.created","triggerId":128},)"
    R"("payload":{"id":1234,"parentId":567,"title":"Invoice-0042.docx","fileEntryType":2},)"
    R"("webhook":{"id":7,"name":"automation","url":"https://hooks.example.com/docspace","triggers":["*"]}})";
const std::vector<std::string> kSecrets = {"s3cret-Key-1"};

std::string Header(std::string_view secret, bool upper = true) {
    return SignatureHeaderValue(secret, kBody, upper);
}
}  // namespace

TEST(Signature, KnownVectorMatchesHmacSha256) {
    // RFC 4231 test case 2 through the header format: the key is used as typed, not decoded.
    const std::string header = "sha256=5BDCC146BF60754E6A042426089575C75A003F089D2739839DEC58B964EC3843";
    EXPECT_EQ(SignatureHeaderValue("Jefe", "what do ya want for nothing?"), header);
    EXPECT_EQ(VerifySignature(&header, "what do ya want for nothing?", {"Jefe"}), SignatureVerdict::kValid);
}

TEST(Signature, UpperCaseAsDocSpaceSends) {
    const std::string header = Header(kSecrets[0]);
    ASSERT_NE(header.find_first_of("ABCDEF"), std::string::npos);
    EXPECT_EQ(VerifySignature(&header, kBody, kSecrets), SignatureVerdict::kValid);
}

TEST(Signature, LowerCaseAccepted) {
    const std::string header = Header(kSecrets[0], /*upper=*/false);
    EXPECT_EQ(header.find_first_of("ABCDEF"), std::string::npos);
    EXPECT_EQ(VerifySignature(&header, kBody, kSecrets), SignatureVerdict::kValid);
}

TEST(Signature, MixedCaseAccepted) {
    std::string header = Header(kSecrets[0], /*upper=*/false);
    for (std::size_t i = 7; i < header.size(); i += 2) header[i] = static_cast<char>(std::toupper(header[i]));
    EXPECT_EQ(VerifySignature(&header, kBody, kSecrets), SignatureVerdict::kValid);
}

TEST(Signature, WrongKeyIsMismatch) {
    const std::string header = Header("another-secret");
    EXPECT_EQ(VerifySignature(&header, kBody, kSecrets), SignatureVerdict::kMismatch);
}

TEST(Signature, ModifiedBodyIsMismatch) {
    const std::string header = Header(kSecrets[0]);
    std::string body = kBody;
    body.back() = ' ';
    EXPECT_EQ(VerifySignature(&header, body, kSecrets), SignatureVerdict::kMismatch);
    EXPECT_EQ(VerifySignature(&header, kBody + "\n", kSecrets), SignatureVerdict::kMismatch);
}

TEST(Signature, MissingHeader) {
    EXPECT_EQ(VerifySignature(nullptr, kBody, kSecrets), SignatureVerdict::kMissing);
    const std::string empty;
    EXPECT_EQ(VerifySignature(&empty, kBody, kSecrets), SignatureVerdict::kMissing);
    const std::string blank = "  \t";
    EXPECT_EQ(VerifySignature(&blank, kBody, kSecrets), SignatureVerdict::kMissing);
}

TEST(Signature, MissingPrefix) {
    const std::string bare = HmacSha256Hex(kSecrets[0], kBody);
    EXPECT_EQ(VerifySignature(&bare, kBody, kSecrets), SignatureVerdict::kMalformed);
    const std::string other_algorithm = "sha1=" + bare;
    EXPECT_EQ(VerifySignature(&other_algorithm, kBody, kSecrets), SignatureVerdict::kMalformed);
    const std::string upper_prefix = "SHA256=" + bare;
    EXPECT_EQ(VerifySignature(&upper_prefix, kBody, kSecrets), SignatureVerdict::kMalformed);
}

TEST(Signature, TruncatedOrExtended) {
    const std::string header = Header(kSecrets[0]);
    const std::string truncated = header.substr(0, header.size() - 1);
    EXPECT_EQ(VerifySignature(&truncated, kBody, kSecrets), SignatureVerdict::kMalformed);
    const std::string half = header.substr(0, 7 + 32);
    EXPECT_EQ(VerifySignature(&half, kBody, kSecrets), SignatureVerdict::kMalformed);
    const std::string prefix_only = "sha256=";
    EXPECT_EQ(VerifySignature(&prefix_only, kBody, kSecrets), SignatureVerdict::kMalformed);
    const std::string extended = header + "0";
    EXPECT_EQ(VerifySignature(&extended, kBody, kSecrets), SignatureVerdict::kMalformed);
}

TEST(Signature, NonHexDigits) {
    std::string header = Header(kSecrets[0]);
    header[10] = 'G';
    EXPECT_EQ(VerifySignature(&header, kBody, kSecrets), SignatureVerdict::kMalformed);
    header[10] = '\x10';
    EXPECT_EQ(VerifySignature(&header, kBody, kSecrets), SignatureVerdict::kMalformed);
}

TEST(Signature, SurroundingWhitespaceIsFramingInnerWhitespaceIsNot) {
    const std::string header = Header(kSecrets[0]);
    const std::string padded = "  " + header + " \t";
    EXPECT_EQ(VerifySignature(&padded, kBody, kSecrets), SignatureVerdict::kValid);
    const std::string inner = "sha256= " + header.substr(7);
    EXPECT_EQ(VerifySignature(&inner, kBody, kSecrets), SignatureVerdict::kMalformed);
    std::string split = header;
    split.insert(20, " ");
    EXPECT_EQ(VerifySignature(&split, kBody, kSecrets), SignatureVerdict::kMalformed);
}

TEST(Signature, SecondSecretOfARotationPair) {
    const std::vector<std::string> rotation = {"old-secret-1", "new-secret-2"};
    const std::string by_old = Header("old-secret-1");
    const std::string by_new = Header("new-secret-2");
    EXPECT_EQ(VerifySignature(&by_old, kBody, rotation), SignatureVerdict::kValid);
    EXPECT_EQ(VerifySignature(&by_new, kBody, rotation), SignatureVerdict::kValid);
    const std::string by_retired = Header("retired-secret-0");
    EXPECT_EQ(VerifySignature(&by_retired, kBody, rotation), SignatureVerdict::kMismatch);
}

TEST(Signature, NoSecretsVerifyNothing) {
    const std::string header = Header(kSecrets[0]);
    EXPECT_EQ(VerifySignature(&header, kBody, {}), SignatureVerdict::kMismatch);
}

TEST(Signature, VerdictLabels) {
    EXPECT_EQ(ToString(SignatureVerdict::kValid), "valid");
    EXPECT_EQ(ToString(SignatureVerdict::kMissing), "missing");
    EXPECT_EQ(ToString(SignatureVerdict::kMalformed), "malformed");
    EXPECT_EQ(ToString(SignatureVerdict::kMismatch), "mismatch");
}
