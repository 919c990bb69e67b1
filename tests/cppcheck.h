/* cppcheck.h - what cppcheck cannot know from the system headers it does not read (make lint
 * forces it into every file): cJSON's iteration macro and the host's byte order. */
#define cJSON_ArrayForEach(element, array)                                                     \
    for (element = (array) ? (array)->child : 0; element; element = element->next)
#define __BYTE_ORDER__ 1234
#define __ORDER_LITTLE_ENDIAN__ 1234
