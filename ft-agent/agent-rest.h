/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Replies of the REST API (agent-rest.c), for handlers in other files
 * that answer later (a paused request: agent-switchover.c).
 */
#pragma once

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

G_BEGIN_DECLS

void ftagent_rest_reply_json(SoupServerMessage *msg, guint status,
                             JsonNode *node);
/* {"error": text} */
void ftagent_rest_reply_error(SoupServerMessage *msg, guint status,
                              const char *text);

G_END_DECLS
