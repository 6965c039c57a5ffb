/* hello: a minimal dynamically linked program for the PT_INTERP and
 * DT_NEEDED checks; the test chooses its loader with --dynamic-linker. */
#include <stdio.h>

int main(void)
{
	puts("hello");
	return 0;
}
