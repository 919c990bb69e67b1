/* mail_send.c - one report as a MIME message (multipart/alternative, base64 parts) over SMTP
 * with libcurl: smtps:// is TLS from the start, smtp:// must upgrade with STARTTLS
 * (CURLUSESSL_ALL: a server without it is refused, nothing goes in clear text). Connection
 * failures and timeouts are tried 3 times, 1 s and 2 s apart. */
#include "mail.h"

#include "util.h"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static void put_base64(struct buf *out, const struct buf *in)
{
    const unsigned char *p = (const unsigned char *)(in->ptr ? in->ptr : "");
    unsigned char line[80];
    for (size_t off = 0; off < in->len; off += 57) { /* 57 bytes: one 76-character line */
        size_t n = in->len - off < 57 ? in->len - off : 57;
        int w = EVP_EncodeBlock(line, p + off, (int)n);
        buf_add(out, line, (size_t)w);
        buf_puts(out, "\r\n");
    }
}

/* RFC 2047 for a subject that is not plain ASCII. */
static void put_subject(struct buf *out, const char *s)
{
    int ascii = 1;
    for (const char *p = s; *p; p++)
        ascii &= (unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f;
    if (ascii) {
        buf_printf(out, "Subject: %s\r\n", s);
        return;
    }
    struct buf raw = BUF_INIT(4096);
    buf_puts(&raw, s);
    struct buf enc = BUF_INIT(8192);
    put_base64(&enc, &raw);
    buf_puts(out, "Subject: =?UTF-8?B?");
    for (size_t i = 0; i < enc.len; i++)
        if (enc.ptr[i] != '\r' && enc.ptr[i] != '\n') buf_putc(out, enc.ptr[i]);
    buf_puts(out, "?=\r\n");
    buf_release(&raw);
    buf_release(&enc);
}

static void build(const struct mail_conf *c, const struct mail_report *r, const char *subject,
                  const struct buf *html, const struct buf *text, struct buf *msg)
{
    char date[64], boundary[64];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
    snprintf(boundary, sizeof boundary, "polsnap-%lld-%zu", (long long)now, html->len);
    buf_printf(msg, "From: <%s>\r\nTo: ", c->from);
    for (size_t i = 0; i < r->to.n; i++)
        buf_printf(msg, "%s<%s>", i ? ", " : "", r->to.v[i]);
    buf_printf(msg, "\r\nDate: %s\r\nMessage-ID: <%s.%lld@polsnap>\r\n", date, boundary,
               (long long)now);
    put_subject(msg, subject);
    buf_printf(msg,
               "MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=\"%s\"\r\n"
               "\r\n--%s\r\nContent-Type: text/plain; charset=utf-8\r\n"
               "Content-Transfer-Encoding: base64\r\n\r\n",
               boundary, boundary);
    put_base64(msg, text);
    buf_printf(msg,
               "--%s\r\nContent-Type: text/html; charset=utf-8\r\n"
               "Content-Transfer-Encoding: base64\r\n\r\n",
               boundary);
    put_base64(msg, html);
    buf_printf(msg, "--%s--\r\n", boundary);
}

struct reader {
    const char *p;
    size_t left;
};

static size_t read_msg(char *dst, size_t size, size_t n, void *ctx)
{
    struct reader *r = ctx;
    size_t k = size * n < r->left ? size * n : r->left;
    memcpy(dst, r->p, k);
    r->p += k;
    r->left -= k;
    return k;
}

static CURLcode attempt(CURL *curl, const struct buf *msg)
{
    struct reader rd = {msg->ptr, msg->len};
    curl_easy_setopt(curl, CURLOPT_READDATA, &rd);
    return curl_easy_perform(curl);
}

int mail_send(const struct mail_conf *c, const struct mail_report *r, const char *subject,
              const struct buf *html, const struct buf *text, struct err *e)
{
    struct buf msg = BUF_INIT(SIZE_MAX / 2), from = BUF_INIT(512);
    build(c, r, subject, html, text, &msg);
    buf_printf(&from, "<%s>", c->from);
    struct curl_slist *rcpt = NULL;
    for (size_t i = 0; i < r->to.n; i++) {
        char a[300];
        snprintf(a, sizeof a, "<%s>", r->to.v[i]);
        rcpt = curl_slist_append(rcpt, a);
    }
    CURL *curl = curl_easy_init();
    char errbuf[CURL_ERROR_SIZE] = "";
    int rc = -1;
    if (!curl || !rcpt) {
        err_set(e, ERR_INTERNAL, "report %s: libcurl could not be set up", r->name);
        goto out;
    }
    curl_easy_setopt(curl, CURLOPT_URL, c->url);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(curl, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_MAIL_FROM, from.ptr);
    curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, read_msg);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, c->timeout_s);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, c->timeout_s * 4);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
    if (c->certificate) curl_easy_setopt(curl, CURLOPT_CAINFO, c->certificate);
    if (c->skip_tls) {
        curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (c->username) {
        curl_easy_setopt(curl, CURLOPT_USERNAME, c->username);
        curl_easy_setopt(curl, CURLOPT_PASSWORD, c->password);
    }
    CURLcode cc = CURLE_OK;
    for (int i = 1; i <= 3; i++) {
        errbuf[0] = '\0';
        cc = attempt(curl, &msg);
        if (cc != CURLE_COULDNT_CONNECT && cc != CURLE_OPERATION_TIMEDOUT &&
            cc != CURLE_SEND_ERROR && cc != CURLE_RECV_ERROR)
            break;
        if (i < 3) nanosleep(&(struct timespec){i, 0}, NULL);
    }
    if (cc == CURLE_OK) {
        rc = 0;
    } else {
        err_set(e, ERR_UPSTREAM, "report %s: sending mail failed: %s%s%s", r->name,
                cc == CURLE_USE_SSL_FAILED ? "the server does not offer STARTTLS (smtp:// needs "
                                             "it; use smtps:// for TLS from the start)"
                                           : curl_easy_strerror(cc),
                errbuf[0] ? ": " : "", errbuf);
    }
out:
    curl_easy_cleanup(curl);
    curl_slist_free_all(rcpt);
    buf_release(&from);
    buf_release(&msg);
    return rc;
}
