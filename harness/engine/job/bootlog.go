package job

import (
	"path/filepath"
	"strings"

	"github.com/redox-hwtest/redox-hwtest/harness/engine/console"
	"github.com/redox-hwtest/redox-hwtest/internal/inputfile"
)

// maxBootLog bounds the transcript BootLog reads back: the console caps what it writes
// (head, tail and the marker between them), so anything larger, or a path that is no
// regular file (a transcript linked to /dev/full or /dev/zero reads without end), is not
// the console's transcript; the console's window is read instead.
const maxBootLog = console.DefaultTranscriptHead + console.DefaultTranscriptTail + 1<<20

// BootLog is the normalised text of everything the console printed so far, as lines: the
// transcript on disk when there is one (complete whatever the console's window kept, up to
// its caps), else the console's window. Suites that judge what the boot printed (drivers, network)
// read it before they type anything.
func (b *Booted) BootLog() []string {
	var text string
	if raw, err := inputfile.ReadFile(filepath.Join(b.Dir, Transcript), maxBootLog, "transcript"); err == nil && len(raw) > 0 {
		var n console.Normalizer
		text = string(n.Append(nil, raw))
	} else if b.Console != nil {
		text = b.Console.Text(0, b.Console.Offset())
	}
	return strings.Split(text, "\n")
}
