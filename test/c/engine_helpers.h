/*
 * engine_helpers.h: what the engine's C test programs share (engine_test.c, threads_test.c):
 * reading the certificates of certs/, putting them into configs, and moving ciphertext from
 * one session to another in memory. A program includes it once and sets certs_dir (its
 * first argument) before loading anything. Failing to read or load a file is a broken
 * checkout, not a test result: it exits with status 2.
 */
#ifndef MBEDTLS_STREAM_ENGINE_HELPERS_H
#define MBEDTLS_STREAM_ENGINE_HELPERS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"

/* The directory of the test certificates (certs/). */
static const char *certs_dir;

typedef struct file {
    uint8_t *data;
    size_t len;
} file;

/* The whole of certs_dir/name, malloc'd (one byte more than its length). */
static inline file load(const char *name)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", certs_dir, name);
    file f = {0};
    FILE *fp = fopen(path, "rb");
    if (fp == NULL) {
        fprintf(stderr, "cannot open %s\n", path);
        exit(2);
    }
    fseek(fp, 0, SEEK_END);
    f.len = (size_t)ftell(fp);
    fseek(fp, 0, SEEK_SET);
    f.data = malloc(f.len + 1);
    if (fread(f.data, 1, f.len, fp) != f.len)
        exit(2);
    fclose(fp);
    return f;
}

/* Our certificate chain and its key, from two files of certs_dir. */
static inline void add_file(mst_config *config, const char *chain, const char *key)
{
    file c = load(chain), k = load(key);
    mst_error err;
    if (mst_config_add_certificate(config, c.data, c.len, k.data, k.len, NULL, 0, &err) != 0) {
        fprintf(stderr, "add_certificate(%s): %s\n", chain, err.text);
        exit(2);
    }
    free(c.data);
    free(k.data);
}

/* Trusted CAs of a file of certs_dir, into the config's own trust store. */
static inline void trust(mst_config *config, const char *name)
{
    file ca = load(name);
    mst_error err;
    if (mst_config_add_ca(config, ca.data, ca.len, 1, NULL, &err) != 0) {
        fprintf(stderr, "add_ca(%s): %s\n", name, err.text);
        exit(2);
    }
    free(ca.data);
}

/* Moves every queued ciphertext byte from one engine to the other, `chunk` bytes per feed
 * (0: all at once; datagram mode always moves whole datagrams). Returns bytes moved. */
static inline size_t transfer(mst_session *from, mst_session *to, size_t chunk, bool datagram)
{
    size_t moved = 0, len;
    const uint8_t *data;
    while ((data = mst_session_peek_ciphertext(from, &len)) != NULL) {
        size_t n = (chunk == 0 || datagram || chunk > len) ? len : chunk;
        /* feed may not be given a pointer into `from`'s window across its call; copy. */
        uint8_t *copy = malloc(n);
        memcpy(copy, data, n);
        mst_session_consume_ciphertext(from, n);
        mst_session_feed_ciphertext(to, copy, n);
        free(copy);
        moved += n;
    }
    return moved;
}

#endif /* MBEDTLS_STREAM_ENGINE_HELPERS_H */
