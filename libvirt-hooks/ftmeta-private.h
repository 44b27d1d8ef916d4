/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What ftmeta.c (the FT element) and ftmeta-domain.c (the domain XML
 * transformations) share: parsing with libxml2 into a GError, describing an
 * element for an error message, the element to and from a node.
 */
#pragma once

#include <libxml/tree.h>

#include "ftmeta.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlDoc, xmlFreeDoc)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlBuffer, xmlBufferFree)

/* Well-formed XML or FTMETA_ERROR_XML "WHAT: not well-formed XML: ...".
 * Blank text between elements is dropped (XML_PARSE_NOBLANKS), as libvirt
 * does, so that a document written back is indented again. */
xmlDoc *ftmeta_xml_parse(const char *xml, const char *what, GError **error);
/* "<ft:epoch min-ms=\"50\" max-ms=\"20\">": the start tag as written */
char *ftmeta_xml_describe(const xmlNode *node);
/* a g_strdup of the attribute without namespace NAME, or NULL */
char *ftmeta_xml_prop(const xmlNode *node, const char *name);
/* the reason PATH is no good as an absolute path, or NULL */
const char *ftmeta_path_problem(const char *path);

/* The FT element at NODE: namespaced (FTMETA_NS) or namespace-less. */
FtMeta *ftmeta_from_node(const xmlNode *node, GError **error);
/* META as a new <ft:ft> element of DOC declaring xmlns:ft itself, or
 * (!WITH_NS) as the namespace-less <ft> */
xmlNode *ftmeta_to_node(const FtMeta *meta, xmlDoc *doc, gboolean with_ns);
