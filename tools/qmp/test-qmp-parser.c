/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests: QMP framing and classification on crafted byte buffers. */
#include "qft-check.h"
#include <string.h>

#include "qmp-error.h"
#include "qmp-parser.h"

#define GREETING "{\"QMP\": {\"version\": {\"qemu\": {\"major\": 10}}, \"capabilities\": [\"oob\"]}}"
#define STOP_EVENT "{\"event\": \"STOP\", \"timestamp\": {\"seconds\": 1, \"microseconds\": 2}}"
#define RETURN_1 "{\"return\": {\"status\": \"running\"}, \"id\": \"qft-1\"}"
#define ERROR_2 "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"The command x has not been found\"}, \"id\": \"qft-2\"}"

static const char conversation[] =
    GREETING "\r\n" STOP_EVENT "\r\n" RETURN_1 "\r\n" ERROR_2 "\r\n";

/* Takes the next message, failing the test on an error or on none. */
static QftQmpMessage *next_message(QftQmpParser *parser)
{
    g_autoptr(GError) error = NULL;
    QftQmpMessage *message = qft_qmp_parser_next(parser, &error);

    ck_assert_msg(error == NULL, "unexpected error: %s", error ? error->message : "");
    ck_assert_ptr_nonnull(message);
    return message;
}

static void assert_no_message(QftQmpParser *parser)
{
    g_autoptr(GError) error = NULL;
    QftQmpMessage *message = qft_qmp_parser_next(parser, &error);

    ck_assert_ptr_null(message);
    ck_assert_msg(error == NULL, "unexpected error: %s", error ? error->message : "");
}

static void assert_conversation(QftQmpParser *parser)
{
    g_autoptr(QftQmpMessage) greeting = next_message(parser);
    g_autoptr(QftQmpMessage) event = next_message(parser);
    g_autoptr(QftQmpMessage) ret = next_message(parser);
    g_autoptr(QftQmpMessage) err = next_message(parser);

    ck_assert_int_eq(greeting->kind, QFT_QMP_MESSAGE_GREETING);
    ck_assert(JSON_NODE_HOLDS_OBJECT(greeting->value));
    ck_assert(json_object_has_member(json_node_get_object(greeting->value), "version"));
    ck_assert_int_eq(event->kind, QFT_QMP_MESSAGE_EVENT);
    ck_assert_str_eq(event->event, "STOP");
    ck_assert_ptr_eq(event->value, event->root);
    ck_assert_ptr_null(event->id);
    ck_assert_int_eq(ret->kind, QFT_QMP_MESSAGE_RETURN);
    ck_assert_str_eq(ret->id, "qft-1");
    ck_assert_str_eq(json_object_get_string_member(json_node_get_object(ret->value), "status"),
                     "running");
    ck_assert_int_eq(err->kind, QFT_QMP_MESSAGE_ERROR);
    ck_assert_str_eq(err->id, "qft-2");
    ck_assert_str_eq(err->error_class, "CommandNotFound");
    ck_assert_str_eq(err->error_desc, "The command x has not been found");
    assert_no_message(parser);
    ck_assert_uint_eq(qft_qmp_parser_get_pending_size(parser), 0);
    ck_assert(qft_qmp_parser_finish(parser, NULL));
}

START_TEST(test_all_in_one_read)
{
    g_autoptr(QftQmpParser) parser = qft_qmp_parser_new(0);

    ck_assert(qft_qmp_parser_feed(parser, conversation, strlen(conversation), NULL));
    assert_conversation(parser);
}
END_TEST

/* Every split point, fed in two reads, and byte by byte. */
START_TEST(test_split_reads)
{
    gsize length = strlen(conversation);

    for (gsize split = 0; split <= length; split++) {
        g_autoptr(QftQmpParser) parser = qft_qmp_parser_new(0);
        g_autoptr(GPtrArray) messages = g_ptr_array_new_with_free_func((GDestroyNotify) qft_qmp_message_free);
        QftQmpMessage *message;

        ck_assert(qft_qmp_parser_feed(parser, conversation, split, NULL));
        while ((message = qft_qmp_parser_next(parser, NULL)) != NULL) {
            g_ptr_array_add(messages, message);
        }
        ck_assert(qft_qmp_parser_feed(parser, conversation + split, length - split, NULL));
        while ((message = qft_qmp_parser_next(parser, NULL)) != NULL) {
            g_ptr_array_add(messages, message);
        }
        ck_assert_uint_eq(messages->len, 4);
        ck_assert_int_eq(((QftQmpMessage *) messages->pdata[0])->kind, QFT_QMP_MESSAGE_GREETING);
        ck_assert_int_eq(((QftQmpMessage *) messages->pdata[3])->kind, QFT_QMP_MESSAGE_ERROR);
    }
}
END_TEST

START_TEST(test_byte_by_byte)
{
    g_autoptr(QftQmpParser) parser = qft_qmp_parser_new(0);
    g_autoptr(GPtrArray) kinds = g_ptr_array_new_with_free_func((GDestroyNotify) qft_qmp_message_free);

    for (gsize i = 0; conversation[i] != '\0'; i++) {
        QftQmpMessage *message;

        ck_assert(qft_qmp_parser_feed(parser, conversation + i, 1, NULL));
        while ((message = qft_qmp_parser_next(parser, NULL)) != NULL) {
            g_ptr_array_add(kinds, message);
        }
    }
    ck_assert_uint_eq(kinds->len, 4);
    ck_assert_str_eq(((QftQmpMessage *) kinds->pdata[1])->event, "STOP");
    ck_assert_str_eq(((QftQmpMessage *) kinds->pdata[2])->id, "qft-1");
}
END_TEST

/* Events between replies keep their order; "\n" alone and blank lines are fine. */
START_TEST(test_events_interleaved_with_replies)
{
    static const char stream[] =
        "{\"event\": \"RESUME\"}\n\n   \r\n"
        "{\"return\": {}, \"id\": \"qft-7\"}\n"
        "{\"event\": \"STOP\", \"data\": {}}\n"
        "{\"return\": [1, 2], \"id\": 42}\n";
    g_autoptr(QftQmpParser) parser = qft_qmp_parser_new(0);
    g_autoptr(QftQmpMessage) resume = NULL;
    g_autoptr(QftQmpMessage) first = NULL;
    g_autoptr(QftQmpMessage) stop = NULL;
    g_autoptr(QftQmpMessage) second = NULL;

    ck_assert(qft_qmp_parser_feed(parser, stream, strlen(stream), NULL));
    resume = next_message(parser);
    first = next_message(parser);
    stop = next_message(parser);
    second = next_message(parser);
    ck_assert_str_eq(resume->event, "RESUME");
    ck_assert_str_eq(first->id, "qft-7");
    ck_assert_str_eq(stop->event, "STOP");
    ck_assert_str_eq(second->id, "42");
    ck_assert(JSON_NODE_HOLDS_ARRAY(second->value));
    assert_no_message(parser);
}
END_TEST

static const struct {
    const char *line;
    int code;
    const char *says;
} malformed[] = {
    { "this is not json", QFT_QMP_ERROR_NOT_JSON, "not JSON" },
    { "{\"return\": ", QFT_QMP_ERROR_NOT_JSON, "not JSON" },
    { "{\"return\": {}} trailing", QFT_QMP_ERROR_NOT_JSON, "not JSON" },
    { "{\"return\": \"a\0b\"}", QFT_QMP_ERROR_NOT_JSON, "not JSON" },
    { "{\"return\": \"\xff\xfe\"}", QFT_QMP_ERROR_NOT_JSON, "not JSON" },
    { "[1, 2, 3]", QFT_QMP_ERROR_NOT_OBJECT, "an array" },
    { "\"return\"", QFT_QMP_ERROR_NOT_OBJECT, "a string" },
    { "42", QFT_QMP_ERROR_NOT_OBJECT, "a number" },
    { "null", QFT_QMP_ERROR_NOT_OBJECT, "null" },
    { "{}", QFT_QMP_ERROR_MALFORMED, "neither \"return\", \"error\"" },
    { "{\"id\": \"qft-1\", \"result\": 1}", QFT_QMP_ERROR_MALFORMED, "neither" },
    { "{\"return\": {}, \"error\": {\"class\": \"A\", \"desc\": \"b\"}}",
      QFT_QMP_ERROR_MALFORMED, "both" },
    { "{\"error\": \"bad\"}", QFT_QMP_ERROR_MALFORMED, "\"error\" member is not an object" },
    { "{\"error\": {\"desc\": \"no class\"}}", QFT_QMP_ERROR_MALFORMED, "\"class\" and \"desc\"" },
    { "{\"error\": {\"class\": \"GenericError\", \"desc\": 5}}", QFT_QMP_ERROR_MALFORMED,
      "\"class\" and \"desc\"" },
    { "{\"event\": 17}", QFT_QMP_ERROR_MALFORMED, "\"event\" member is not a string" },
    { "{\"QMP\": []}", QFT_QMP_ERROR_MALFORMED, "\"QMP\" member is not an object" },
};

/* Each malformed line is reported, names its problem, and the next line still parses. */
START_TEST(test_malformed_message)
{
    const char *line = malformed[_i].line;
    gsize length = _i == 3 ? 17 : strlen(line);
    g_autoptr(QftQmpParser) parser = qft_qmp_parser_new(0);
    g_autoptr(GError) error = NULL;
    g_autoptr(QftQmpMessage) message = NULL;
    g_autoptr(QftQmpMessage) after = NULL;

    ck_assert(qft_qmp_parser_feed(parser, line, length, NULL));
    ck_assert(qft_qmp_parser_feed(parser, "\r\n" RETURN_1 "\n", strlen(RETURN_1) + 3, NULL));
    message = qft_qmp_parser_next(parser, &error);
    ck_assert_ptr_null(message);
    ck_assert_ptr_nonnull(error);
    ck_assert_msg(g_error_matches(error, QFT_QMP_ERROR, malformed[_i].code),
                  "line %zu: wrong error %d: %s", (size_t) _i, error->code, error->message);
    ck_assert_msg(strstr(error->message, malformed[_i].says) != NULL,
                  "'%s' does not say '%s'", error->message, malformed[_i].says);
    after = next_message(parser);
    ck_assert_str_eq(after->id, "qft-1");
}
END_TEST

START_TEST(test_error_quotes_the_message_escaped)
{
    static const char line[] = "\x01not json\xff\n";
    g_autoptr(QftQmpParser) parser = qft_qmp_parser_new(0);
    g_autoptr(GError) error = NULL;

    ck_assert(qft_qmp_parser_feed(parser, line, strlen(line), NULL));
    ck_assert_ptr_null(qft_qmp_parser_next(parser, &error));
    ck_assert_msg(strstr(error->message, "'\\x01not json\\xff'") != NULL, "%s", error->message);
}
END_TEST

START_TEST(test_parse_empty_message)
{
    g_autoptr(GError) error = NULL;

    ck_assert_ptr_null(qft_qmp_message_parse("  ", 2, &error));
    ck_assert(g_error_matches(error, QFT_QMP_ERROR, QFT_QMP_ERROR_NOT_JSON));
}
END_TEST

START_TEST(test_line_at_the_limit)
{
    g_autoptr(QftQmpParser) parser = qft_qmp_parser_new(strlen(RETURN_1));
    g_autoptr(QftQmpMessage) message = NULL;

    ck_assert(qft_qmp_parser_feed(parser, RETURN_1 "\r\n", strlen(RETURN_1) + 2, NULL));
    message = next_message(parser);
    ck_assert_str_eq(message->id, "qft-1");
}
END_TEST

/* A complete line over the limit is refused; the stream goes on after it. */
START_TEST(test_complete_line_over_the_limit)
{
    g_autoptr(QftQmpParser) parser = qft_qmp_parser_new(strlen(RETURN_1) - 1);
    g_autoptr(GError) error = NULL;

    ck_assert(qft_qmp_parser_feed(parser, RETURN_1 "\n{\"event\": \"X\"}\n",
                                  strlen(RETURN_1) + 16, NULL));
    ck_assert_ptr_null(qft_qmp_parser_next(parser, &error));
    ck_assert(g_error_matches(error, QFT_QMP_ERROR, QFT_QMP_ERROR_TOO_LARGE));
    qft_qmp_message_free(next_message(parser));
}
END_TEST

/* The real 16 MiB limit: an unterminated message one byte over it fails at once, for good. */
START_TEST(test_oversized_message)
{
    gsize size = QFT_QMP_MAX_MESSAGE_SIZE + 1;
    g_autofree char *blob = g_malloc(size);
    g_autoptr(QftQmpParser) parser = qft_qmp_parser_new(0);
    g_autoptr(GError) error = NULL;
    g_autoptr(GError) again = NULL;

    memset(blob, ' ', size);
    blob[0] = '{';
    ck_assert(qft_qmp_parser_feed(parser, blob, size - 1, NULL));
    ck_assert_ptr_null(qft_qmp_parser_next(parser, NULL));
    ck_assert(!qft_qmp_parser_feed(parser, blob, 1, &error));
    ck_assert(g_error_matches(error, QFT_QMP_ERROR, QFT_QMP_ERROR_TOO_LARGE));
    ck_assert_msg(strstr(error->message, "16777216") != NULL, "%s", error->message);
    ck_assert(!qft_qmp_parser_feed(parser, "\n", 1, &again));
    ck_assert(g_error_matches(again, QFT_QMP_ERROR, QFT_QMP_ERROR_TOO_LARGE));
}
END_TEST

/* Pending complete lines do not count against the limit of the line being received. */
START_TEST(test_limit_counts_only_the_unterminated_line)
{
    g_autoptr(QftQmpParser) parser = qft_qmp_parser_new(strlen(RETURN_1) + 2);

    for (int i = 0; i < 10; i++) {
        ck_assert(qft_qmp_parser_feed(parser, RETURN_1 "\r\n", strlen(RETURN_1) + 2, NULL));
    }
    for (int i = 0; i < 10; i++) {
        qft_qmp_message_free(next_message(parser));
    }
    assert_no_message(parser);
}
END_TEST

START_TEST(test_eof_mid_message)
{
    g_autoptr(QftQmpParser) parser = qft_qmp_parser_new(0);
    g_autoptr(GError) error = NULL;

    ck_assert(qft_qmp_parser_feed(parser, RETURN_1 "\n{\"ret", strlen(RETURN_1) + 6, NULL));
    qft_qmp_message_free(next_message(parser));
    assert_no_message(parser);
    ck_assert(!qft_qmp_parser_finish(parser, &error));
    ck_assert(g_error_matches(error, QFT_QMP_ERROR, QFT_QMP_ERROR_TRUNCATED));
    ck_assert_msg(strstr(error->message, "5 bytes") != NULL, "%s", error->message);
}
END_TEST

START_TEST(test_eof_after_blank_tail)
{
    g_autoptr(QftQmpParser) parser = qft_qmp_parser_new(0);

    ck_assert(qft_qmp_parser_finish(parser, NULL));
    ck_assert(qft_qmp_parser_feed(parser, RETURN_1 "\r\n \r", strlen(RETURN_1) + 4, NULL));
    ck_assert(qft_qmp_parser_finish(parser, NULL));
}
END_TEST

START_TEST(test_command_error)
{
    g_autoptr(GError) error = qft_qmp_command_error_new("CommandNotFound",
                                                        "The command nope has not been found");
    g_autoptr(GError) copy = g_error_copy(error);
    g_autoptr(GError) other = qft_qmp_command_error_new("SomethingNew", "d");

    ck_assert(g_error_matches(error, QFT_QMP_COMMAND_ERROR,
                              QFT_QMP_COMMAND_ERROR_COMMAND_NOT_FOUND));
    ck_assert_str_eq(error->message, "QMP error CommandNotFound: The command nope has not been found");
    ck_assert_str_eq(qft_qmp_command_error_get_class(copy), "CommandNotFound");
    ck_assert_str_eq(qft_qmp_command_error_get_desc(copy), "The command nope has not been found");
    ck_assert_int_eq(other->code, QFT_QMP_COMMAND_ERROR_OTHER_CLASS);
    ck_assert_str_eq(qft_qmp_command_error_get_class(other), "SomethingNew");
}
END_TEST

static Suite *parser_suite(void)
{
    Suite *suite = suite_create("qmp-parser");
    TCase *framing = tcase_create("framing");
    TCase *errors = tcase_create("errors");

    tcase_add_test(framing, test_all_in_one_read);
    tcase_add_test(framing, test_split_reads);
    tcase_add_test(framing, test_byte_by_byte);
    tcase_add_test(framing, test_events_interleaved_with_replies);
    tcase_add_test(framing, test_line_at_the_limit);
    tcase_add_test(framing, test_limit_counts_only_the_unterminated_line);
    tcase_add_test(framing, test_eof_after_blank_tail);
    suite_add_tcase(suite, framing);

    tcase_add_loop_test(errors, test_malformed_message, 0, G_N_ELEMENTS(malformed));
    tcase_add_test(errors, test_error_quotes_the_message_escaped);
    tcase_add_test(errors, test_parse_empty_message);
    tcase_add_test(errors, test_complete_line_over_the_limit);
    tcase_add_test(errors, test_oversized_message);
    tcase_add_test(errors, test_eof_mid_message);
    tcase_add_test(errors, test_command_error);
    tcase_set_timeout(errors, 60);
    suite_add_tcase(suite, errors);
    return suite;
}

int main(void)
{
    return qft_check_run(parser_suite());
}
