// Titles as DocSpace stores and numbers them (docs/docspace-api.md §2.5 "Titles"): each case is what
// Global.ReplaceInvalidCharsAndTruncate, FileDao's extension rewrite and Global.GetAvailableTitleAsync
// make of the input, worked out from DocSpace-server's code.
#include "docspace/titles.hpp"

#include <gtest/gtest.h>

#include <string>

namespace spacehook::docspace {
namespace {

TEST(PortalTitleTest, InvalidCharactersBecomeUnderscores) {
    EXPECT_EQ(PortalTitle("Q1: Plans", TitleKind::kFolder), "Q1_ Plans");
    EXPECT_EQ(PortalTitle("a*b+c:d\"e<f>g?h|i\\j/k\tl", TitleKind::kFolder), "a_b_c_d_e_f_g_h_i_j_k_l");
    // Everything else stays, other punctuation and letters of any script included.
    EXPECT_EQ(PortalTitle("Отчёт & план (v2) #1 [x] {y} 'z' ~ % $ @ ! = ; ,", TitleKind::kFolder),
              "Отчёт & план (v2) #1 [x] {y} 'z' ~ % $ @ ! = ; ,");
}

TEST(PortalTitleTest, TrimsUnicodeWhiteSpace) {
    EXPECT_EQ(PortalTitle("  Incoming \t", TitleKind::kFolder), "Incoming");
    EXPECT_EQ(PortalTitle("\u00A0\u3000Room\u2003", TitleKind::kFolder), "Room");
    // A tab inside is not trimmed: it is replaced.
    EXPECT_EQ(PortalTitle("a\tb", TitleKind::kFolder), "a_b");
    EXPECT_EQ(PortalTitle("   ", TitleKind::kFolder), "");
}

TEST(PortalTitleTest, CharactersBeyondTheBasicPlaneBecomeTwoUnderscores) {
    // The regex's \p{Cs} sees each UTF-16 surrogate unit of an emoji.
    EXPECT_EQ(PortalTitle("Launch \U0001F680", TitleKind::kFolder), "Launch __");
    // A byte that is not UTF-8 stands for a lone surrogate.
    EXPECT_EQ(PortalTitle(std::string("a\xFF") + "b", TitleKind::kFolder), "a_b");
    // An encoded surrogate (CESU-8) is one lone surrogate.
    EXPECT_EQ(PortalTitle(std::string("a\xED\xA0\x80") + "b", TitleKind::kFolder), "a_b");
}

TEST(PortalTitleTest, CutsTo170KeepingANearExtension) {
    const std::string stem(200, 'x');
    EXPECT_EQ(PortalTitle(stem, TitleKind::kFolder), std::string(170, 'x'));
    // The dot is past position 150: the extension is kept and the stem shortened.
    EXPECT_EQ(PortalTitle(stem + ".docx", TitleKind::kFile), std::string(165, 'x') + ".docx");
    // The dot is not within the last 20 units of the cut title: a plain cut.
    const std::string early = std::string(100, 'a') + "." + std::string(100, 'b');
    EXPECT_EQ(PortalTitle(early, TitleKind::kFolder), early.substr(0, 170));
    // Exactly 170 stays.
    EXPECT_EQ(PortalTitle(std::string(170, 'y'), TitleKind::kFolder), std::string(170, 'y'));
    // UTF-16 units count, not bytes: 171 Cyrillic letters (342 bytes) lose one letter.
    std::string cyrillic;
    for (int i = 0; i < 171; ++i) cyrillic += "ж";
    EXPECT_EQ(PortalTitle(cyrillic, TitleKind::kFolder), cyrillic.substr(0, std::size_t{170} * 2));
    // An emoji counts two units; cutting through one leaves a lone surrogate, then an underscore.
    const std::string emojis = std::string(169, 'e') + "\U0001F600";
    EXPECT_EQ(PortalTitle(emojis, TitleKind::kFolder), std::string(169, 'e') + "_");
}

TEST(PortalTitleTest, TrimsBeforeCutting) {
    EXPECT_EQ(PortalTitle("   " + std::string(170, 'z') + "   ", TitleKind::kFolder), std::string(170, 'z'));
}

TEST(PortalTitleTest, FilesGetALowerCaseExtension) {
    EXPECT_EQ(PortalTitle("Report.DOCX", TitleKind::kFile), "Report.docx");
    EXPECT_EQ(PortalTitle("archive.tar.GZ", TitleKind::kFile), "archive.tar.gz");
    EXPECT_EQ(PortalTitle("Report.DOCX", TitleKind::kFolder), "Report.DOCX");  // folders keep it
    // ReplaceFileExtension writes name + "." + extension: no extension leaves a trailing dot.
    EXPECT_EQ(PortalTitle("README", TitleKind::kFile), "README.");
    EXPECT_EQ(PortalTitle("name.", TitleKind::kFile), "name.");
    EXPECT_EQ(PortalTitle(".bashrc", TitleKind::kFile), ".bashrc");
    EXPECT_EQ(PortalTitle("Q1: Plans.XLSX", TitleKind::kFile), "Q1_ Plans.xlsx");
}

TEST(PortalTitleTest, AStoredTitleStaysAsItIs) {
    for (const auto* title : {"Q1_ Plans", "Report.docx", "README.", "Launch __", "a. docx", ".bashrc"}) {
        EXPECT_EQ(PortalTitle(PortalTitle(title, TitleKind::kFile), TitleKind::kFile),
                  PortalTitle(title, TitleKind::kFile))
            << title;
        EXPECT_EQ(PortalTitle(title, TitleKind::kFolder),
                  PortalTitle(PortalTitle(title, TitleKind::kFolder), TitleKind::kFolder))
            << title;
    }
    const std::string long_title = std::string(300, 'q') + ".pdf";
    const auto once = PortalTitle(long_title, TitleKind::kFile);
    EXPECT_EQ(PortalTitle(once, TitleKind::kFile), once);
}

TEST(NumberedTitleTest, FilesBeforeTheExtensionFoldersAtTheEnd) {
    EXPECT_EQ(NumberedTitle("Report.docx", 1, TitleKind::kFile), "Report (1).docx");
    EXPECT_EQ(NumberedTitle("archive.tar.gz", 2, TitleKind::kFile), "archive.tar (2).gz");
    EXPECT_EQ(NumberedTitle("v1.2", 1, TitleKind::kFolder), "v1.2 (1)");
    EXPECT_EQ(NumberedTitle("Plans", 3, TitleKind::kFolder), "Plans (3)");
}

TEST(TitleMatchesTest, NumberedCopiesOfFilesAndFolders) {
    EXPECT_TRUE(TitleMatches("Report.docx", "Report.docx", false));
    EXPECT_FALSE(TitleMatches("Report (1).docx", "Report.docx", false));
    EXPECT_TRUE(TitleMatches("Report (12).docx", "Report.docx", true));
    EXPECT_FALSE(TitleMatches("Report (x).docx", "Report.docx", true));
    EXPECT_FALSE(TitleMatches("Report ().docx", "Report.docx", true));
    EXPECT_FALSE(TitleMatches("Other (1).docx", "Report.docx", true));
    // A folder's number ends the whole name; the file rule would look for "v1 (1).2".
    EXPECT_TRUE(TitleMatches("v1.2 (1)", "v1.2", true, TitleKind::kFolder));
    EXPECT_FALSE(TitleMatches("v1 (1).2", "v1.2", true, TitleKind::kFolder));
    EXPECT_FALSE(TitleMatches("v1.2 (1)", "v1.2", true, TitleKind::kFile));
    EXPECT_TRUE(TitleMatches("v1 (1).2", "v1.2", true, TitleKind::kFile));
}

}  // namespace
}  // namespace spacehook::docspace
