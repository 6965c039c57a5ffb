package job

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/redox-hwtest/redox-hwtest/harness/engine/console"
)

// BootLog is the normalised text of everything the console printed so far, as lines: the
// transcript on disk when there is one (complete whatever the console's window kept),
// else the console's window. Suites that judge what the boot printed (drivers, network)
// read it before they type anything.
func (b *Booted) BootLog() []string {
	var text string
	if raw, err := os.ReadFile(filepath.Join(b.Dir, Transcript)); err == nil && len(raw) > 0 {
		var n console.Normalizer
		text = string(n.Append(nil, raw))
	} else if b.Console != nil {
		text = b.Console.Text(0, b.Console.Offset())
	}
	return strings.Split(text, "\n")
}
