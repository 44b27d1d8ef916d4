/*
 * qft-ramcheck [--cpus N] [--json] IMAGE: validate a RAM image of the
 * bootblock guest (guest-physical address 0 = byte 0 of the file).
 * Exit 0 invariant holds, 1 broken (the message names the page),
 * 2 usage, I/O, or not a bootblock image.
 *
 * Copyright (c) 2026 qemu-ft developers
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <fcntl.h>
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ramcheck.h"

static void print_json(gboolean ok, const QftRamcheckResult *r,
                       const GError *err)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    g_autoptr(JsonNode) root = NULL;
    g_autofree char *text = NULL;
    uint32_t i;

    json_builder_begin_object(b);
    json_builder_set_member_name(b, "ok");
    json_builder_add_boolean_value(b, ok);
    json_builder_set_member_name(b, "ncpus");
    json_builder_add_int_value(b, r->ncpus);
    json_builder_set_member_name(b, "pages");
    json_builder_add_int_value(b, r->pages);
    json_builder_set_member_name(b, "sweeps");
    json_builder_begin_array(b);
    for (i = 0; ok && i < r->ncpus; i++) {
        json_builder_add_int_value(b, r->sweeps[i]);
    }
    json_builder_end_array(b);
    json_builder_set_member_name(b, "error");
    if (err) {
        json_builder_add_string_value(b, err->message);
    } else {
        json_builder_add_null_value(b);
    }
    json_builder_end_object(b);
    root = json_builder_get_root(b);
    text = json_to_string(root, FALSE);
    printf("%s\n", text);
}

int main(int argc, char **argv)
{
    gint cpus = 0;
    gboolean json = FALSE;
    GOptionEntry entries[] = {
        { "cpus", 0, 0, G_OPTION_ARG_INT, &cpus,
          "Expect N vCPUs (all must have written)", "N" },
        { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print a JSON result", NULL },
        { NULL }
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("IMAGE");
    g_autoptr(GError) err = NULL;
    QftRamcheckResult r;
    struct stat st;
    void *map;
    gboolean ok;
    int fd;

    g_option_context_set_summary(ctx, "Check a bootblock guest's RAM image "
                                 "against its memory invariant.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &err)) {
        fprintf(stderr, "qft-ramcheck: %s\n", err->message);
        return 2;
    }
    if (argc != 2 || cpus < 0) {
        fprintf(stderr, "qft-ramcheck: usage: qft-ramcheck [--cpus N] "
                "[--json] IMAGE\n");
        return 2;
    }
    fd = open(argv[1], O_RDONLY);
    if (fd < 0 || fstat(fd, &st) < 0) {
        fprintf(stderr, "qft-ramcheck: %s: %s\n", argv[1], g_strerror(errno));
        return 2;
    }
    if (st.st_size == 0) {
        fprintf(stderr, "qft-ramcheck: %s: empty file\n", argv[1]);
        return 2;
    }
    map = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED) {
        fprintf(stderr, "qft-ramcheck: %s: mmap: %s\n", argv[1],
                g_strerror(errno));
        return 2;
    }
    ok = qft_ramcheck_image(map, st.st_size, cpus, &r, &err);
    if (json) {
        print_json(ok, &r, err);
    } else if (ok) {
        printf("ok: %u vCPUs, %" G_GUINT64_FORMAT " pages, sweeps",
               r.ncpus, r.pages);
        for (uint32_t i = 0; i < r.ncpus; i++) {
            printf(" %u", r.sweeps[i]);
        }
        printf("\n");
    }
    if (!ok) {
        fprintf(stderr, "qft-ramcheck: %s: %s\n", argv[1], err->message);
        return err->code == QFT_RAMCHECK_ERROR_NOT_IMAGE ? 2 : 1;
    }
    return 0;
}
