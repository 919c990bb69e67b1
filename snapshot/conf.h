/* conf.h - reading a configuration file (YAML or JSON) into a cJSON tree and checking its
 * values, with messages that name the file and the key: "FILE: targets[2].url: reason".
 * Shared by the notification targets file (targets.c) and the email reports file (mail.c).
 *
 * Every getter returns 0 with its output set, or -1 with the struct err of `at` filled
 * (ERR_INVALID) and the output untouched. Strings are copied; the caller frees them. */
#ifndef POLSNAP_CONF_H
#define POLSNAP_CONF_H

#include "err.h"

#include <cjson/cJSON.h>
#include <stddef.h>

struct conf_at {
    const char *file;
    char path[256]; /* "" at the top */
    struct err *e;
};

struct conf_strings {
    char **v;
    size_t n;
};

/* Reads path (at most 1 MiB): JSON when its name ends in .json, else one YAML document
 * (scalars are text: conf_bool and conf_seconds accept both). Returns the tree (free with
 * cJSON_Delete) or NULL with e filled (ERR_IO or ERR_INVALID). */
cJSON *conf_load(const char *path, struct err *e);

int conf_bad(const struct conf_at *a, const char *why);
struct conf_at conf_child(const struct conf_at *a, const char *key);
struct conf_at conf_item(const struct conf_at *a, int i);

int conf_string(const struct conf_at *a, const cJSON *v, size_t max, char **out);
int conf_bool(const struct conf_at *a, const cJSON *v, int *out);
int conf_seconds(const struct conf_at *a, const cJSON *v, long *out); /* 1-300 */
/* A list of strings (at most 256), appended to out. */
int conf_list(const struct conf_at *a, const cJSON *v, struct conf_strings *out);
/* A mapping whose keys appear once each. */
int conf_object(const struct conf_at *a, const cJSON *v);
/* A file's first line, blanks trimmed (a secret: the buffer is wiped after). */
int conf_secret_file(const struct conf_at *a, const char *path, char **out);

/* 1 when s matches any of the patterns: '*' is any run of bytes (none included), every other
 * byte matches itself, ASCII case folded. */
int conf_match(const struct conf_strings *patterns, const char *s);

void conf_push(struct conf_strings *s, char *v);
/* Frees the strings (wiping them first when secret) and empties s. */
void conf_strings_release(struct conf_strings *s, int secret);
int conf_has_control(const char *s);

#endif
