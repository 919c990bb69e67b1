/* main.c - polsnap-fcgi: placeholder while the foundation is built. */
#include <fcgi_stdio.h>

int main(void)
{
    while (FCGI_Accept() >= 0)
        printf("Status: 503 Service Unavailable\r\nContent-Type: application/json\r\n\r\n"
               "{\"code\":14,\"message\":\"not built yet\",\"error\":\"not built "
               "yet\",\"details\":[]}");
    return 0;
}
