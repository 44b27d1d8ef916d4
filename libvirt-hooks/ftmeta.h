/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The FT element of a libvirt domain (<ft:ft> in <metadata>, namespace
 * urn:qemu-ft:domain:1; schema docs/ft-metadata.rng, reference
 * docs/libvirt.md) and the domain XML transformations that make a domain
 * fault tolerant (ft-enable), ordinary again (ft-disable) and its standby.
 *
 * Everything here is pure XML work (libxml2): no libvirt connection, no I/O.
 * Every refusal is a GError in FTMETA_ERROR naming the element, the
 * attribute and the value at fault.
 */
#pragma once

#include <glib.h>

#define FTMETA_NS     "urn:qemu-ft:domain:1"
#define FTMETA_PREFIX "ft"
/* libvirt's QEMU namespace (<qemu:commandline>) */
#define FTMETA_QEMU_NS "http://libvirt.org/schemas/domain/qemu/1.0"
/* the RAM backend of an FT domain: the same id on primary and standby */
#define FTMETA_RAM_ID "ft-ram"

#define FTMETA_MAX_STANDBYS 4
#define FTMETA_HOST_ID_MAX 27      /* [A-Za-z0-9_.-]{1,27} */
#define FTMETA_EPOCH_MS_MAX 10000u

#define FTMETA_ERROR (ftmeta_error_quark())
typedef enum {
    FTMETA_ERROR_XML,           /* not well-formed XML, or not a <domain> */
    FTMETA_ERROR_INVALID,       /* the FT element is wrong: names what */
    FTMETA_ERROR_NAMESPACE,     /* an FT element of another namespace version */
    FTMETA_ERROR_UNSUPPORTED,   /* the domain has what FT cannot protect */
    FTMETA_ERROR_NOT_ENABLED,   /* standby of a domain without FT metadata */
} FtMetaError;
GQuark ftmeta_error_quark(void);

typedef enum {
    FTMETA_POLICY_PROTECT,      /* standby failover */
    FTMETA_POLICY_RESTART,      /* cold restart on a standby host */
    FTMETA_POLICY_NOTIFY,       /* only tell the cloud API */
} FtMetaPolicy;

typedef struct FtMeta {
    FtMetaPolicy policy;
    char **standby_hosts;       /* NULL-terminated, may be empty for notify */
    guint epoch_min_ms, epoch_max_ms;   /* 0 = not set */
    char *pool_dir;             /* NULL = the agent's pool-dir */
} FtMeta;

/* The <ft:ft> element (also the namespace-less form virDomainGetMetadata
 * returns: libvirt strips the namespace from what it hands back). */
FtMeta *ftmeta_parse(const char *element_xml, GError **error);
/* NULL without error (error untouched) when the domain has no FT metadata */
FtMeta *ftmeta_from_domain_xml(const char *domain_xml, GError **error);
/* the element, for virDomainSetMetadata (key FTMETA_PREFIX, uri FTMETA_NS):
 * without namespace, one line, e.g. <ft policy="notify"/>. libvirt adds the
 * namespace itself and refuses an element that already declares the key's
 * prefix ("failed to create a new XML namespace"). */
char *ftmeta_to_xml(const FtMeta *meta);
/* the same as it appears in the domain XML: <ft:ft xmlns:ft="..." ...> */
char *ftmeta_to_xml_ns(const FtMeta *meta);
const char *ftmeta_policy_name(FtMetaPolicy policy);
gboolean ftmeta_policy_from_name(const char *name, FtMetaPolicy *policy,
                                 GError **error);
void ftmeta_free(FtMeta *meta);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(FtMeta, ftmeta_free)

/* A new element with the policy and nothing else (add standby hosts before
 * it validates for protect and restart). */
FtMeta *ftmeta_new(FtMetaPolicy policy);
FtMeta *ftmeta_copy(const FtMeta *meta);
gboolean ftmeta_equal(const FtMeta *a, const FtMeta *b);
/* The rules ftmeta_parse applies, for an FtMeta built in code. */
gboolean ftmeta_validate(const FtMeta *meta, GError **error);
gboolean ftmeta_host_id_valid(const char *host);

/* ft-enable: the inactive domain XML made fault tolerant, or an error naming
 * everything that cannot be (writable disk, vhost NIC, shared memory,
 * hugepages, NUMA memory nodes, ...). Idempotent. */
char *ftmeta_domain_enable(const char *domain_xml, const FtMeta *meta,
                           GError **error);
/* What ftmeta_domain_enable refuses, without changing anything. */
gboolean ftmeta_domain_check(const char *domain_xml, GError **error);
/* Removes what ftmeta_domain_enable (and _standby) added; idempotent. The
 * interfaces keep <driver name='qemu'/> (see docs/libvirt.md). */
char *ftmeta_domain_disable(const char *domain_xml, GError **error);
/* The standby's XML: the FT domain with RAM backend ft-ram mapped from the
 * pool's base image (memory-backend-file, share=off) at ram_offset. */
char *ftmeta_domain_standby(const char *domain_xml, const char *pool_path,
                            guint64 ram_offset, GError **error);
/* The guest RAM size QEMU gets from libvirt: <memory> in its unit, rounded
 * up to whole MiB as libvirt does for x86 (the size ft-ram must have);
 * 0 with error if <memory> is missing or not a size. */
guint64 ftmeta_domain_memory_bytes(const char *domain_xml, GError **error);
/* <name> and <uuid> of a domain XML (NULL with error if absent) */
char *ftmeta_domain_name(const char *domain_xml, GError **error);
char *ftmeta_domain_uuid(const char *domain_xml, GError **error);
/* The netdev ids libvirt gives the domain's interfaces (hostnet<N>, or
 * host<alias> for a user alias), in document order, NULL-terminated; an
 * <interface type='hostdev'> has none and is left out. */
char **ftmeta_domain_netdev_ids(const char *domain_xml, GError **error);
