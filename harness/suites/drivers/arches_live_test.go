package drivers_test

import (
	"strings"
	"testing"

	"github.com/redox-hwtest/redox-hwtest/harness/internal/standin"
	"github.com/redox-hwtest/redox-hwtest/record"
)

// Redox's i586 machine (mk/qemu.mk: pc, pentium2, IDE, AC'97, e1000) with the i586
// stand-in (Debian's 686 kernel): ide, ac97 and e1000 bound and working, the rest SKIP.
func TestLiveI586Drivers(t *testing.T) {
	_, cs := run(t, standin.Spec{Image: standin.I586BIOS, Suite: "drivers", Devices: []string{"ide", "e1000", "ac97"}})
	for _, d := range []string{"ide", "e1000", "ac97"} {
		want(t, cs, "drivers/"+d, record.Pass)
	}
	for _, d := range []string{"nvme", "hda"} {
		want(t, cs, "drivers/"+d, record.Skip)
	}
	if c := cs["drivers/ide"]; !strings.Contains(c.Message, "/dev/sd") || !strings.Contains(c.Message, "read it back") {
		t.Errorf("ide message does not say it wrote and read the IDE disk: %s", c.Message)
	}
	if c := cs["drivers/ac97"]; !strings.Contains(c.Message, "AC'97 codec") {
		t.Errorf("ac97 message does not name the codec: %s", c.Message)
	}
}
