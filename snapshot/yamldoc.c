/* yamldoc.c - builds one cJSON tree per YAML document from libyaml's events, without typing. */
#include "yamldoc.h"

#include "err.h"

#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

struct yamldoc {
    yaml_parser_t parser;
    int index; /* documents started */
    int done;
};

/* An open collection; key is the mapping key waiting for its value (NULL: the next scalar is a
 * key), owned by the frame. */
struct frame {
    cJSON *node;
    char *key;
};

/* cJSON allocates with plain malloc and answers NULL when out of memory; polsnap aborts. */
static cJSON *must(cJSON *node)
{
    if (!node) {
        fprintf(stderr, "polsnap: out of memory building a YAML document\n");
        abort();
    }
    return node;
}

struct yamldoc *yamldoc_open(const char *data, size_t len)
{
    struct yamldoc *y = xcalloc(1, sizeof *y);
    if (!yaml_parser_initialize(&y->parser)) {
        fprintf(stderr, "polsnap: out of memory starting the YAML parser\n");
        abort();
    }
    yaml_parser_set_input_string(&y->parser, (const unsigned char *)data, len);
    return y;
}

void yamldoc_free(struct yamldoc *y)
{
    if (!y) return;
    yaml_parser_delete(&y->parser);
    free(y);
}

int yamldoc_index(const struct yamldoc *y)
{
    return y->index;
}

static void syntax_error(const yaml_parser_t *p, struct err *e)
{
    const char *problem = p->problem ? p->problem : "malformed YAML";
    if (p->error == YAML_READER_ERROR)
        err_set(e, ERR_INVALID, "byte %lu: %s", (unsigned long)p->problem_offset, problem);
    else if (p->context)
        err_set(e, ERR_INVALID, "line %lu, column %lu: %s (%s)",
                (unsigned long)p->problem_mark.line + 1, (unsigned long)p->problem_mark.column + 1,
                problem, p->context);
    else
        err_set(e, ERR_INVALID, "line %lu, column %lu: %s", (unsigned long)p->problem_mark.line + 1,
                (unsigned long)p->problem_mark.column + 1, problem);
}

static void event_error(const yaml_event_t *ev, const char *what, struct err *e)
{
    err_set(e, ERR_INVALID, "line %lu, column %lu: %s", (unsigned long)ev->start_mark.line + 1,
            (unsigned long)ev->start_mark.column + 1, what);
}

/* Puts node under the innermost open collection (or makes it the document's root). Returns -1
 * when node is a collection standing where a mapping key belongs; node is then freed. */
static int attach(struct frame *stack, int depth, cJSON **root, cJSON *node)
{
    if (!depth) {
        *root = node;
        return 0;
    }
    struct frame *top = &stack[depth - 1];
    if (cJSON_IsArray(top->node)) {
        cJSON_AddItemToArray(top->node, node);
        return 0;
    }
    if (!top->key) {
        cJSON_Delete(node);
        return -1;
    }
    if (!cJSON_AddItemToObject(top->node, top->key, node)) must(NULL);
    free(top->key);
    top->key = NULL;
    return 0;
}

/* Handles one event of the document being built. Returns 0 to go on, 1 when the document
 * (or the stream) ended, -1 with *e set. */
static int on_event(struct yamldoc *y, const yaml_event_t *ev, struct frame *stack, int *depth,
                    cJSON **root, struct err *e)
{
    cJSON *node;
    switch (ev->type) {
    case YAML_DOCUMENT_START_EVENT:
        y->index++;
        return 0;
    case YAML_DOCUMENT_END_EVENT:
    case YAML_STREAM_END_EVENT:
        return 1;
    case YAML_ALIAS_EVENT:
        err_set(e, ERR_INVALID,
                "line %lu, column %lu: YAML aliases (*%.64s) are not "
                "supported",
                (unsigned long)ev->start_mark.line + 1, (unsigned long)ev->start_mark.column + 1,
                (const char *)ev->data.alias.anchor);
        return -1;
    case YAML_SCALAR_EVENT: {
        const char *v = (const char *)ev->data.scalar.value;
        size_t n = ev->data.scalar.length;
        if (memchr(v, '\0', n)) {
            event_error(ev, "a scalar holds a NUL character", e);
            return -1;
        }
        struct frame *top = *depth ? &stack[*depth - 1] : NULL;
        if (top && cJSON_IsObject(top->node) && !top->key) {
            top->key = xstrndup(v, n);
            return 0;
        }
        node = must(cJSON_CreateString(v));
        attach(stack, *depth, root, node); /* a scalar always fits where it stands */
        return 0;
    }
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT:
        if (*depth == YAMLDOC_MAX_DEPTH) {
            err_set(e, ERR_INVALID, "line %lu, column %lu: nested deeper than %d levels",
                    (unsigned long)ev->start_mark.line + 1,
                    (unsigned long)ev->start_mark.column + 1, YAMLDOC_MAX_DEPTH);
            return -1;
        }
        node = must(ev->type == YAML_SEQUENCE_START_EVENT ? cJSON_CreateArray()
                                                          : cJSON_CreateObject());
        if (attach(stack, *depth, root, node)) {
            event_error(ev, "a mapping key is not a scalar", e);
            return -1;
        }
        stack[(*depth)++] = (struct frame){node, NULL};
        return 0;
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        if (*depth) (*depth)--; /* libyaml pairs them; a wrong count must not underflow */
        return 0;
    default:
        return 0;
    }
}

int yamldoc_next(struct yamldoc *y, cJSON **doc, struct err *e)
{
    if (y->done) return 0;
    struct frame stack[YAMLDOC_MAX_DEPTH];
    int depth = 0, rc, in_doc = 0;
    cJSON *root = NULL;
    for (;;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&y->parser, &ev)) {
            syntax_error(&y->parser, e);
            rc = -1;
            break;
        }
        int stream_end = ev.type == YAML_STREAM_END_EVENT;
        in_doc |= ev.type == YAML_DOCUMENT_START_EVENT;
        rc = on_event(y, &ev, stack, &depth, &root, e);
        yaml_event_delete(&ev);
        if (rc == 1 && stream_end) rc = 0;
        if (rc || stream_end) break;
    }
    /* An error between documents belongs to the one that was about to start. */
    if (rc < 0 && !in_doc) y->index++;
    for (int i = 0; i < depth; i++)
        free(stack[i].key);
    if (rc == 1) {
        *doc = root;
    } else {
        cJSON_Delete(root);
        y->done = 1;
    }
    return rc;
}
