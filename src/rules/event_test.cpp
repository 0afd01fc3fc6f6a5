#include "rules/event.hpp"

#include <gtest/gtest.h>

#include "docspace/names.hpp"
#include "rules/facts.hpp"

using namespace spacehook;
using namespace spacehook::rules;

TEST(Event, FileEvent) {
    auto event = ParseEventBody(
        R"({"event":{"id":4821,"createOn":"2026-06-30T10:15:42Z","createBy":"66FAA6E4-f133-11ea-b126-00ffeec8b4ef",
        "trigger":"file.created","triggerId":128},
        "payload":{"id":1234,"parentId":567,"title":"Invoice.docx","modifiedOn":"2026-06-30T10:15:41Z","fileEntryType":2},
        "webhook":{"id":7,"name":"automation"}})");
    ASSERT_TRUE(event) << event.error().message;
    EXPECT_EQ(event->trigger, "file.created");
    EXPECT_EQ(event->id->str(), "4821");
    EXPECT_EQ(event->create_on, "2026-06-30T10:15:42Z");
    EXPECT_EQ(event->kind, EntityKind::kFile);
    EXPECT_EQ(event->entity_id->str(), "1234");
    EXPECT_TRUE(event->entity_id->is_number());
    EXPECT_EQ(event->parent_id->str(), "567");
    EXPECT_EQ(*event->title, "Invoice.docx");
    EXPECT_EQ(*event->modified_on, "2026-06-30T10:15:41Z");
    EXPECT_EQ(event->webhook["name"], Json("automation"));
    EXPECT_TRUE(event->IsBy("66faa6e4-F133-11EA-b126-00ffeec8b4ef"));  // the loop guard ignores case
    EXPECT_FALSE(event->IsBy("00000000-0000-0000-0000-000000000000"));
    EXPECT_FALSE(event->IsBy(""));
}

TEST(Event, OmittedFieldsAreAbsent) {
    auto event =
        ParseEvent(Json{{"event", {{"trigger", "user.created"}}}, {"payload", {{"id", "5e0b5d7c"}}}});
    ASSERT_TRUE(event);
    EXPECT_FALSE(event->id);
    EXPECT_TRUE(event->create_by.empty());
    EXPECT_FALSE(event->IsBy(""));
    EXPECT_EQ(event->kind, EntityKind::kUser);
    EXPECT_EQ(event->entity_id->str(), "5e0b5d7c");
    EXPECT_FALSE(event->parent_id);
    EXPECT_FALSE(event->title);
    EXPECT_TRUE(event->webhook.is_object());
}

TEST(Event, FieldsOfTheWrongTypeCountAsAbsent) {
    auto event = ParseEvent(Json{{"event", {{"trigger", "file.updated"}, {"id", {1}}, {"createBy", 5}}},
                                 {"payload", {{"id", 1.5}, {"title", 7}, {"parentId", ""}}},
                                 {"webhook", "not an object"}});
    ASSERT_TRUE(event);
    EXPECT_FALSE(event->id);
    EXPECT_TRUE(event->create_by.empty());
    EXPECT_FALSE(event->entity_id);
    EXPECT_FALSE(event->title);
    EXPECT_FALSE(event->parent_id);
    EXPECT_TRUE(event->webhook.empty());
}

TEST(Event, StringIdsFromThirdPartyStorage) {
    auto event = ParseEvent(Json{{"event", {{"trigger", "folder.created"}}},
                                 {"payload", {{"id", "sbox-1|/a"}, {"parentId", "sbox-1|/"}}}});
    ASSERT_TRUE(event);
    EXPECT_EQ(event->kind, EntityKind::kFolder);
    EXPECT_EQ(event->entity_id->str(), "sbox-1|/a");
    EXPECT_FALSE(event->entity_id->is_number());
}

TEST(Event, FormSubmitIsAboutTheSubmittedCopy) {
    auto event = ParseEvent(
        Json{{"event", {{"trigger", "form.submit"}}},
             {"payload",
              {{"originalForm", {{"id", 300}, {"parentId", 890}, {"title", "Application.pdf"}}},
               {"submittedForm", {{"id", 412}, {"parentId", 415}, {"title", "Application - Jane.pdf"}}}}}});
    ASSERT_TRUE(event);
    EXPECT_EQ(event->kind, EntityKind::kFile);
    EXPECT_EQ(event->entity_id->str(), "412");
    EXPECT_EQ(event->parent_id->str(), "415");
    EXPECT_EQ(*event->title, "Application - Jane.pdf");
    EXPECT_EQ(event->original_form_id->str(), "300");
    // Before 3.7.1 the payload was the form itself.
    auto old = ParseEvent(
        Json{{"event", {{"trigger", "form.submit"}}}, {"payload", {{"id", 300}, {"title", "A.pdf"}}}});
    ASSERT_TRUE(old);
    EXPECT_EQ(old->entity_id->str(), "300");
    EXPECT_FALSE(old->original_form_id);
}

TEST(Event, KindsByTriggerFamily) {
    EXPECT_EQ(KindOfTrigger("room.archived"), EntityKind::kRoom);
    EXPECT_EQ(KindOfTrigger("agent.created"), EntityKind::kRoom);
    EXPECT_EQ(KindOfTrigger("form.filled.out"), EntityKind::kFile);
    EXPECT_EQ(KindOfTrigger("group.updated"), EntityKind::kGroup);
    EXPECT_EQ(KindOfTrigger("*"), EntityKind::kUnknown);
    // A trigger newer than our table: the payload's fileEntryType decides.
    auto event = ParseEvent(
        Json{{"event", {{"trigger", "file.locked"}}}, {"payload", {{"id", 1}, {"fileEntryType", 2}}}});
    ASSERT_TRUE(event);
    EXPECT_EQ(event->kind, EntityKind::kFile);
    auto unknown =
        ParseEvent(Json{{"event", {{"trigger", "portal.renamed"}}}, {"payload", {{"fileEntryType", 1}}}});
    ASSERT_TRUE(unknown);
    EXPECT_EQ(unknown->kind, EntityKind::kFolder);
    EXPECT_EQ(ParseEntityKind("room"), EntityKind::kRoom);
    EXPECT_FALSE(ParseEntityKind("rooms"));
}

TEST(Event, Rejects) {
    EXPECT_EQ(ParseEventBody("{").error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(ParseEventBody("[]").error().message, "the event is not a JSON object");
    EXPECT_EQ(ParseEventBody(R"({"event":{"trigger":""}})").error().message,
              "the event has no event.trigger");
    EXPECT_FALSE(ParseEventBody(R"({"payload":{}})"));
}

// ParseEvent copies the payload, and a copy recurses once per level: a deep body is refused first.
TEST(Event, RejectsDeepNestingBeforeCopying) {
    const std::string body = R"({"event":{"trigger":"file.created"},"payload":{"x":)" +
                             std::string(300000, '[') + std::string(300000, ']') + "}}";
    auto parsed = ParseEventBody(body);
    ASSERT_FALSE(parsed);
    EXPECT_EQ(parsed.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(parsed.error().message, "the event: JSON nests deeper than 64 levels");
}

TEST(Facts, RoundTripAndErrors) {
    auto facts = Facts::FromJson(Json{{"path", {3, "890", 567}},
                                      {"room", {{"id", 890}, {"title", "A"}}},
                                      {"file", {{"id", 1}}},
                                      {"actor", nullptr}});
    ASSERT_TRUE(facts) << facts.error().message;
    ASSERT_TRUE(facts->path);
    EXPECT_EQ(facts->path->size(), 3u);
    EXPECT_EQ((*facts->path)[1].str(), "890");
    EXPECT_TRUE(facts->actor.is_null());
    EXPECT_EQ(
        facts->ToJson(),
        (Json{{"path", {3, "890", 567}}, {"room", {{"id", 890}, {"title", "A"}}}, {"file", {{"id", 1}}}}));
    EXPECT_EQ(Facts::FromJson(Json{{"rooms", 1}}).error().message,
              "unknown key 'rooms' in facts; expected path, room, file, folder, user, actor");
    EXPECT_EQ(Facts::FromJson(Json{{"path", {1.5}}}).error().message, "facts.path must be a list of ids");
    EXPECT_EQ(Facts::FromJson(Json{{"file", "x"}}).error().message, "facts.file must be an object");
    EXPECT_EQ(Facts::FromJson(Json{{"room", {{"title", "x"}}}}).error().message, "facts.room needs an id");
    EXPECT_FALSE(Facts::FromJson(Json::array()));
}

TEST(Facts, NeededFactsNamesAndUnion) {
    NeededFacts a;
    a.path = true;
    NeededFacts b;
    b.actor = true;
    b.file = true;
    a |= b;
    EXPECT_EQ(a.Names(), (std::vector<std::string_view>{"room path", "file info", "actor info"}));
    EXPECT_TRUE(a.any());
    EXPECT_FALSE(NeededFacts{}.any());
}
