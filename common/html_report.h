/* html_report.h - the printable violations report: an HTML page (and, for email, its plain-text
 * twin) listing failing results grouped by namespace then policy, cluster scope last. The
 * email reports (snapshot/mail_render.c) and /v1/html-report/violations (api_reports.c) both
 * render it, so a mailed report and the page a browser prints are the same.
 *
 * The page has no scripts and no remote content; its one <style> element is allowed by the
 * Content-Security-Policy html_report_csp() names (the style's SHA-256), and every value is
 * HTML-escaped (buf_put_escaped) and bidi-isolated (<bdi>), so a value cannot add markup or turn
 * the text around it. */
#ifndef POLSNAP_HTML_REPORT_H
#define POLSNAP_HTML_REPORT_H

#include "buf.h"
#include "idx.h"

#include <stddef.h>
#include <stdint.h>

/* The Content-Security-Policy value a page of this module needs: no source of anything but
 * its own style element, by hash. A static string, computed once. */
const char *html_report_csp(void);

/* Opens the page: doctype, title, the style element, the heading and "Snapshot taken at". */
void html_report_start(struct buf *h, const char *title, const char *when);
void html_report_end(struct buf *h);

/* The violations of rows ids[0..n) (row ids of ix; reordered here: cluster scope last, then
 * namespace, policy and row order): a count, then one heading and table per namespace and
 * policy, at most max rows (the number left out is said). text, when not NULL, gets the same
 * as plain text. */
void html_report_violations(const struct idx *ix, uint32_t *ids, size_t n, size_t max,
                            struct buf *h, struct buf *text);

#endif
