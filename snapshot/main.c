/* main.c - polsnap-snapshot: placeholder while the foundation is built. */
#include <stdio.h>

int main(void)
{
    fprintf(stderr, "polsnap-snapshot: not built yet\n");
    return 1;
}
