/* kubeconfig.h - how to reach a Kubernetes API server: from a kubeconfig file, or from the
 * service account of the pod we run in.
 *
 * Both give a kube_target: the server URL and the credentials, read fresh from disk on every
 * call (bound service-account tokens rotate, so nothing is cached between runs).
 *
 * Kubeconfig: the context named by `context` (else current-context) picks a cluster and a user.
 * Supported: cluster.server, certificate-authority(-data), insecure-skip-tls-verify;
 * user.token, tokenFile, client-certificate(-data), client-key(-data). Relative file paths are
 * resolved against the kubeconfig's directory, as kubectl does. Everything that would change
 * how we authenticate or connect and that we do not implement (exec and auth-provider plugins,
 * username/password, proxy-url, tls-server-name, impersonation) is refused with a sentence
 * saying so, never silently ignored. A context's namespace is ignored: we list all namespaces.
 *
 * In-cluster: https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT with the token and the
 * CA of $POLSNAP_SERVICEACCOUNT_DIR (default /var/run/secrets/kubernetes.io/serviceaccount),
 * files `token` and `ca.crt`. */
#ifndef POLSNAP_KUBECONFIG_H
#define POLSNAP_KUBECONFIG_H

#include "err.h"
#include "http.h"

#include <stddef.h>

#define KUBECONFIG_SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"

/* Every string is owned by the target (kube_target_release frees them all); NULL when unset.
 * A *_pem field holds decoded PEM text (from a *-data field) and wins over its *_file twin. */
struct kube_target {
    char *server; /* "https://host:port" with any trailing '/' removed */
    char *ca_file, *ca_pem;
    char *cert_file, *cert_pem;
    char *key_file, *key_pem;
    char *token;  /* the bearer token itself (tokenFile already read) */
    int insecure; /* insecure-skip-tls-verify */
    char *where;  /* for messages: "kubeconfig PATH, context NAME" or "in-cluster (...)" */
};

/* Loads path (a kubeconfig; at most 4 MiB). context NULL or "" means current-context.
 * Returns 0 and fills *out, or -1 with *e set and *out zeroed (nothing to release). */
int kubeconfig_load(const char *path, const char *context, struct kube_target *out, struct err *e);

/* The pod's own service account, as described above. Same return contract. */
int kubeconfig_in_cluster(struct kube_target *out, struct err *e);

/* Frees every string and zeroes *t (the token and key are wiped first). NULL is fine. */
void kube_target_release(struct kube_target *t);

/* Sets the trust, client-certificate and token fields of conf from t; leaves the others.
 * conf borrows t's strings: keep t alive until http_client_new has returned. */
void kube_target_http_conf(const struct kube_target *t, struct http_conf *conf);

#endif
