#include "ingress/envelope.hpp"

#include <gtest/gtest.h>

using namespace spacehook;
using namespace spacehook::ingress;
using namespace std::chrono_literals;

namespace {

// docs/docspace-api.md §1.6 example bodies, compact as on the wire.
const std::string kFileCreated =
    R"({"event":{"id":4821,"createOn":"2026-06-30T10:15:42Z","createBy":"66faa6e4-f133-11ea-b126-00ffeec8b4ef",)"
    R"("trigger":"file.created","triggerId":128},"payload":{"id":1234,"parentId":567,"securityByUsers":{},)"
    R"("folderIdDisplay":567,"rootId":3,"title":"Invoice-0042.docx","createBy":"66faa6e4-f133-11ea-b126-00ffeec8b4ef",)"
    R"("modifiedBy":"66faa6e4-f133-11ea-b126-00ffeec8b4ef","createOn":"2026-06-30T10:15:41Z",)"
    R"("modifiedOn":"2026-06-30T10:15:41Z","rootFolderType":14,"rootCreateBy":"66faa6e4-f133-11ea-b126-00ffeec8b4ef",)"
    R"("fileEntryType":2},"webhook":{"id":7,"name":"automation","url":"https://hooks.example.com/docspace",)"
    R"("triggers":["file.created","file.uploaded","room.created"]}})";

const std::string kFolderUpdatedWithTarget =
    R"({"event":{"id":4830,"createOn":"2026-06-30T10:21:00Z","createBy":"66faa6e4-f133-11ea-b126-00ffeec8b4ef",)"
    R"("trigger":"folder.updated","triggerId":65536},"payload":{"id":567,"parentId":890,"securityByUsers":{},)"
    R"("folderIdDisplay":890,"rootId":3,"title":"Incoming","rootFolderType":14,"fileEntryType":1},)"
    R"("webhook":{"id":9,"name":"watch-567","url":"https://h.example.com/x","triggers":["folder.updated"],)"
    R"("target":{"id":567,"type":"folder"}}})";

const std::string kUserCreated =
    R"({"event":{"id":4840,"createOn":"2026-06-30T10:25:01Z","createBy":"66faa6e4-f133-11ea-b126-00ffeec8b4ef",)"
    R"("trigger":"user.created","triggerId":1},"payload":{"id":"5e0b5d7c-2f6e-4b8e-9a51-1c2d3e4f5a6b",)"
    R"("firstName":"Jane","lastName":"Doe","email":"jane.doe@example.com","tenantId":1,"isActive":true},)"
    R"("webhook":{"id":7,"name":"automation","url":"https://h.example.com/x","triggers":["user.created"]}})";

const std::string kFormSubmit =
    R"({"event":{"id":4860,"createOn":"2026-06-30T11:00:00Z","trigger":"form.submit","triggerId":268435456},)"
    R"("payload":{"originalForm":{"id":300,"parentId":890,"title":"Application.pdf","fileEntryType":2},)"
    R"("submittedForm":{"id":412,"parentId":415,"title":"Application - Jane Doe.pdf","fileEntryType":2}},)"
    R"("webhook":{"id":7,"name":"automation","url":"https://h.example.com/x","triggers":["form.submit"]}})";

// The same event as kFileCreated on retry 2: the webhook block carries the retry fields (docs/docspace-api.md
// §1.6, §1.9).
const std::string kFileCreatedRetry2 =
    R"({"event":{"id":4821,"createOn":"2026-06-30T10:15:42Z","createBy":"66faa6e4-f133-11ea-b126-00ffeec8b4ef",)"
    R"("trigger":"file.created","triggerId":128},"payload":{"id":1234,"parentId":567,"securityByUsers":{},)"
    R"("folderIdDisplay":567,"rootId":3,"title":"Invoice-0042.docx","createBy":"66faa6e4-f133-11ea-b126-00ffeec8b4ef",)"
    R"("modifiedBy":"66faa6e4-f133-11ea-b126-00ffeec8b4ef","createOn":"2026-06-30T10:15:41Z",)"
    R"("modifiedOn":"2026-06-30T10:15:41Z","rootFolderType":14,"rootCreateBy":"66faa6e4-f133-11ea-b126-00ffeec8b4ef",)"
    R"("fileEntryType":2},"webhook":{"id":7,"name":"automation","url":"https://hooks.example.com/docspace",)"
    R"("triggers":["file.created","file.uploaded","room.created"],"lastFailureOn":"2026-06-30T10:15:43Z",)"
    R"("lastFailureContent":"Response status code does not indicate success: 503 (Service Unavailable).",)"
    R"("lastSuccessOn":"2026-06-29T08:00:00","retryCount":2,"retryOn":"2026-06-30T10:15:46Z"}})";

Envelope MustParse(const std::string& body) {
    auto parsed = ParseEnvelope(body);
    EXPECT_TRUE(parsed.has_value()) << (parsed ? "" : parsed.error().message);
    return parsed ? *parsed : Envelope{};
}

}  // namespace

TEST(Envelope, FileCreatedExample) {
    const Envelope e = MustParse(kFileCreated);
    ASSERT_TRUE(e.event_id);
    EXPECT_EQ(e.event_id->str(), "4821");
    EXPECT_TRUE(e.event_id->is_number());
    EXPECT_EQ(e.trigger, "file.created");
    EXPECT_EQ(e.trigger_id, 128);
    EXPECT_EQ(e.created_on, "2026-06-30T10:15:42Z");
    ASSERT_TRUE(e.created_at);
    EXPECT_EQ(FormatIso8601(*e.created_at), "2026-06-30T10:15:42Z");
    EXPECT_EQ(e.actor, "66faa6e4-f133-11ea-b126-00ffeec8b4ef");
    ASSERT_TRUE(e.entity_id);
    EXPECT_EQ(e.entity_id->str(), "1234");
    ASSERT_TRUE(e.webhook_id);
    EXPECT_EQ(e.webhook_id->str(), "7");
    EXPECT_EQ(e.retry_count, 0);
    EXPECT_EQ(e.dedupe_id, "4821");
}

TEST(Envelope, FolderUpdatedWithTargetExample) {
    const Envelope e = MustParse(kFolderUpdatedWithTarget);
    EXPECT_EQ(e.trigger, "folder.updated");
    EXPECT_EQ(e.entity_id->str(), "567");
    EXPECT_EQ(e.webhook_id->str(), "9");
}

TEST(Envelope, UserCreatedHasGuidEntityId) {
    const Envelope e = MustParse(kUserCreated);
    ASSERT_TRUE(e.entity_id);
    EXPECT_EQ(e.entity_id->str(), "5e0b5d7c-2f6e-4b8e-9a51-1c2d3e4f5a6b");
    EXPECT_FALSE(e.entity_id->is_number());
}

TEST(Envelope, FormSubmitEntityIsTheOriginalForm) {
    const Envelope e = MustParse(kFormSubmit);
    EXPECT_EQ(e.trigger_id, 268435456);
    ASSERT_TRUE(e.entity_id);
    EXPECT_EQ(e.entity_id->str(), "300");
    EXPECT_TRUE(e.actor.empty());
}

TEST(Envelope, RetryBlockIsReadAndKeepsTheKey) {
    const Envelope first = MustParse(kFileCreated);
    const Envelope retry = MustParse(kFileCreatedRetry2);
    EXPECT_EQ(retry.retry_count, 2);
    EXPECT_EQ(retry.dedupe_id, first.dedupe_id);
    EXPECT_EQ(retry.webhook_id->str(), first.webhook_id->str());
}

TEST(Envelope, StringIds) {
    // Third-party storage rooms use string ids (docs/docspace-api.md §1.7); ids are compared as text.
    const Envelope e = MustParse(
        R"({"event":{"id":"4821","trigger":"file.created"},"payload":{"id":"sbox-abc|/Invoice.docx"},)"
        R"("webhook":{"id":"7"}})");
    EXPECT_EQ(e.event_id->str(), "4821");
    EXPECT_FALSE(e.event_id->is_number());
    EXPECT_EQ(e.entity_id->str(), "sbox-abc|/Invoice.docx");
    EXPECT_EQ(e.webhook_id->str(), "7");
    EXPECT_EQ(e.dedupe_id, "4821");
    // The same delivery with number ids lands on the same journal key.
    const Envelope n = MustParse(R"({"event":{"id":4821,"trigger":"file.created"},"webhook":{"id":7}})");
    EXPECT_EQ(ToNewDelivery(n, "", {}).event_id, ToNewDelivery(e, "", {}).event_id);
    EXPECT_EQ(ToNewDelivery(n, "", {}).webhook_id, ToNewDelivery(e, "", {}).webhook_id);
}

TEST(Envelope, EverythingButTheTriggerMayBeOmitted) {
    const Envelope e = MustParse(R"({"event":{"trigger":"room.created"}})");
    EXPECT_EQ(e.trigger, "room.created");
    EXPECT_FALSE(e.event_id);
    EXPECT_FALSE(e.webhook_id);
    EXPECT_FALSE(e.entity_id);
    EXPECT_FALSE(e.created_at);
    EXPECT_TRUE(e.created_on.empty());
    EXPECT_TRUE(e.actor.empty());
    EXPECT_EQ(e.trigger_id, 0);
    EXPECT_EQ(e.dedupe_id.rfind("sha256:", 0), 0u);
    const auto delivery = ToNewDelivery(e, "{}", {});
    EXPECT_EQ(delivery.webhook_id, "");
    EXPECT_EQ(delivery.entity_id, "");
}

TEST(Envelope, ZeroEventIdMeansNoId) {
    // DocSpace omits event.id 0; an explicit 0 must not become a key every id-less delivery shares.
    const Envelope a = MustParse(R"({"event":{"id":0,"trigger":"file.created"},"payload":{"id":1}})");
    const Envelope b = MustParse(R"({"event":{"id":0,"trigger":"file.created"},"payload":{"id":2}})");
    EXPECT_FALSE(a.event_id);
    EXPECT_NE(a.dedupe_id, b.dedupe_id);
}

TEST(Envelope, ContentKeyIgnoresRetryFieldsAndFormatting) {
    const std::string first =
        R"({"event":{"createOn":"2026-06-30T10:15:42Z","trigger":"file.created"},"payload":{"id":1,"title":"a"},)"
        R"("webhook":{"id":7}})";
    const std::string retry =
        R"({"event":{"trigger":"file.created","createOn":"2026-06-30T10:15:42Z"},)"
        R"("payload":{"title":"a", "id":1},"webhook":{"id":7,"retryCount":1,"retryOn":"2026-06-30T10:15:43Z"}})";
    EXPECT_EQ(MustParse(first).dedupe_id, MustParse(retry).dedupe_id);
    // A different entity, time, actor or trigger is a different event.
    const std::string other_entity =
        R"({"event":{"createOn":"2026-06-30T10:15:42Z","trigger":"file.created"},"payload":{"id":2,"title":"a"}})";
    const std::string other_time =
        R"({"event":{"createOn":"2026-06-30T10:15:43Z","trigger":"file.created"},"payload":{"id":1,"title":"a"}})";
    const std::string other_actor =
        R"({"event":{"createOn":"2026-06-30T10:15:42Z","createBy":"u","trigger":"file.created"},)"
        R"("payload":{"id":1,"title":"a"}})";
    const std::string other_trigger =
        R"({"event":{"createOn":"2026-06-30T10:15:42Z","trigger":"file.uploaded"},"payload":{"id":1,"title":"a"}})";
    const std::string key = MustParse(first).dedupe_id;
    EXPECT_NE(MustParse(other_entity).dedupe_id, key);
    EXPECT_NE(MustParse(other_time).dedupe_id, key);
    EXPECT_NE(MustParse(other_actor).dedupe_id, key);
    EXPECT_NE(MustParse(other_trigger).dedupe_id, key);
}

TEST(Envelope, WronglyTypedOptionalFieldsAreTreatedAsAbsent) {
    const Envelope e = MustParse(
        R"({"event":{"id":{"x":1},"createOn":17,"createBy":false,"trigger":"file.created","triggerId":"128"},)"
        R"("payload":[1,2],"webhook":"seven"})");
    EXPECT_FALSE(e.event_id);
    EXPECT_TRUE(e.created_on.empty());
    EXPECT_TRUE(e.actor.empty());
    EXPECT_EQ(e.trigger_id, 0);
    EXPECT_FALSE(e.entity_id);
    EXPECT_FALSE(e.webhook_id);
}

TEST(Envelope, MalformedJsonIsInvalidArgument) {
    for (const std::string body : {"", "{", R"({"event":{"trigger":"file.created"})", "nul", R"({"a":1,})",
                                   "{\"event\":{\"trigger\":\"file.created\"}}trailing"}) {
        auto parsed = ParseEnvelope(body);
        ASSERT_FALSE(parsed) << body;
        EXPECT_EQ(parsed.error().code, ErrorCode::kInvalidArgument) << body;
    }
}

// Half a million levels fit in a 1 MiB body. nlohmann parses them without recursion, but the content key
// dump()s the payload (no event.id here) and the dispatcher copies it, both once per level: this must be a
// 400 (kInvalidArgument) before anything recursive sees it, never a stack overflow.
TEST(Envelope, DeepNestingIsInvalidArgument) {
    const std::string deep =
        std::string(std::size_t{512} * 1024, '[') + std::string(std::size_t{512} * 1024, ']');
    for (const std::string& body :
         {R"({"event":{"trigger":"file.created"},"payload":)" + deep + "}",
          R"({"event":{"id":1,"trigger":"file.created"},"payload":{"a":)" + deep + "}}", deep}) {
        auto parsed = ParseEnvelope(body);
        ASSERT_FALSE(parsed);
        EXPECT_EQ(parsed.error().code, ErrorCode::kInvalidArgument);
        EXPECT_EQ(parsed.error().message, "body: JSON nests deeper than 64 levels");
    }
    // Within the limit the payload's depth does not matter.
    const std::string ok = R"({"event":{"trigger":"file.created"},"payload":)" + std::string(60, '[') +
                           std::string(60, ']') + "}";
    EXPECT_TRUE(ParseEnvelope(ok));
}

TEST(Envelope, NonObjectRootIsInvalidArgument) {
    for (const std::string body :
         {"[]", R"([{"event":{"trigger":"file.created"}}])", R"("file.created")", "42", "null", "true"}) {
        auto parsed = ParseEnvelope(body);
        ASSERT_FALSE(parsed) << body;
        EXPECT_EQ(parsed.error().code, ErrorCode::kInvalidArgument) << body;
    }
}

TEST(Envelope, NoTriggerIsInvalidArgument) {
    for (const std::string body : {"{}", R"({"event":{}})", R"({"event":{"id":1}})", R"({"event":[]})",
                                   R"({"event":{"trigger":""}})", R"({"event":{"trigger":128}})",
                                   R"({"event":{"trigger":null}})", R"({"payload":{},"webhook":{"id":7}})"}) {
        auto parsed = ParseEnvelope(body);
        ASSERT_FALSE(parsed) << body;
        EXPECT_EQ(parsed.error().code, ErrorCode::kInvalidArgument) << body;
    }
}

TEST(Envelope, ToNewDeliveryKeepsTheExactBytes) {
    const Envelope e = MustParse(kFileCreated);
    const TimePoint at = FromUnixMillis(1'782'000'000'000);
    const auto delivery = ToNewDelivery(e, kFileCreated, at);
    EXPECT_EQ(delivery.body, kFileCreated);
    EXPECT_EQ(delivery.webhook_id, "7");
    EXPECT_EQ(delivery.event_id, "4821");
    EXPECT_EQ(delivery.trigger, "file.created");
    EXPECT_EQ(delivery.actor, "66faa6e4-f133-11ea-b126-00ffeec8b4ef");
    EXPECT_EQ(delivery.entity_id, "1234");
    EXPECT_EQ(delivery.created_on, "2026-06-30T10:15:42Z");
    EXPECT_EQ(delivery.received_at, at);
}

TEST(Envelope, TransportHeadersMayOnlyReject) {
    const Envelope e = MustParse(kFileCreated);
    EXPECT_TRUE(CheckTransportHeaders(e, nullptr, nullptr));
    const std::string same_id = "4821", other_id = "4822", blank = " ";
    EXPECT_TRUE(CheckTransportHeaders(e, &same_id, nullptr));
    EXPECT_TRUE(CheckTransportHeaders(e, &blank, nullptr));
    auto mismatch = CheckTransportHeaders(e, &other_id, nullptr);
    ASSERT_FALSE(mismatch);
    EXPECT_EQ(mismatch.error().code, ErrorCode::kInvalidArgument);

    const std::string same_iso = "2026-06-30T10:15:42Z", same_millis = "2026-06-30T10:15:42.480Z";
    const std::string same_unix = "1782814542", other_iso = "2026-06-30T10:16:42Z", unreadable = "yesterday";
    EXPECT_TRUE(CheckTransportHeaders(e, nullptr, &same_iso));
    EXPECT_TRUE(CheckTransportHeaders(e, nullptr, &same_millis));
    EXPECT_TRUE(CheckTransportHeaders(e, nullptr, &same_unix));
    EXPECT_TRUE(CheckTransportHeaders(e, nullptr, &unreadable));
    EXPECT_FALSE(CheckTransportHeaders(e, nullptr, &other_iso));
}

// A Unix time past 2262 (where a TimePoint ends) in the unsigned timestamp header is unreadable, like any
// other unreadable value: it cannot reject, and it no longer overflows (found by fuzz_delivery, input kept
// in fuzz/regressions/delivery).
TEST(Envelope, TimestampHeaderPastTimePointRangeIsIgnored) {
    const Envelope e = MustParse(kFileCreated);
    for (const std::string header : {"9999999999999999", "9223372036854776", "99999999999999.9"}) {
        EXPECT_TRUE(CheckTransportHeaders(e, nullptr, &header)) << header;
    }
    const std::string millis = "1782814542480", far_millis = "9223286400000";
    EXPECT_TRUE(CheckTransportHeaders(e, nullptr, &millis));
    EXPECT_FALSE(CheckTransportHeaders(e, nullptr, &far_millis));
}

TEST(Envelope, EventIdHeaderAgainstAnOmittedId) {
    const Envelope e = MustParse(R"({"event":{"trigger":"file.created"}})");
    const std::string zero = "0", some = "17";
    EXPECT_TRUE(CheckTransportHeaders(e, &zero, nullptr));
    EXPECT_FALSE(CheckTransportHeaders(e, &some, nullptr));
}

TEST(Envelope, FreshnessIsOffByDefault) {
    const Envelope e = MustParse(kFileCreated);
    const TimePoint much_later = *e.created_at + std::chrono::hours(24 * 30);
    EXPECT_TRUE(CheckFreshness(e, 0ms, much_later));
}

TEST(Envelope, FreshnessLimit) {
    const Envelope e = MustParse(kFileCreated);
    EXPECT_TRUE(CheckFreshness(e, 5min, *e.created_at + 4min));
    auto stale = CheckFreshness(e, 5min, *e.created_at + 6min);
    ASSERT_FALSE(stale);
    EXPECT_EQ(stale.error().code, ErrorCode::kInvalidArgument);
    const Envelope undated = MustParse(R"({"event":{"id":1,"trigger":"file.created"}})");
    EXPECT_FALSE(CheckFreshness(undated, 5min, *e.created_at));
}
