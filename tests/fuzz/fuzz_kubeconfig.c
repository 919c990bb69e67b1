/* fuzz_kubeconfig.c - libFuzzer harness: any bytes as a kubeconfig file (kubeconfig_load reads
 * a path, so the input goes to a memfd named by /proc/self/fd). Beyond no crash, leak or
 * undefined behaviour it checks the contract: success means a server URL, failure a message
 * and nothing to release. Built and run by tests/fuzz/run. */
#include "kubeconfig.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_create("kubeconfig", MFD_CLOEXEC);
    if (fd < 0 || write(fd, data, size) != (ssize_t)size) abort();
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    struct kube_target t;
    struct err e = {0};
    if (kubeconfig_load(path, NULL, &t, &e) == 0) {
        if (!t.server || strncmp(t.server, "http", 4) != 0) abort();
        kube_target_release(&t);
    } else if (!e.msg[0]) {
        abort();
    }
    close(fd);
    return 0;
}
