package job

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redox-hwtest/redox-hwtest/harness/engine/lock"
	_ "github.com/redox-hwtest/redox-hwtest/hosts/serial"
	"github.com/redox-hwtest/redox-hwtest/matrix"
)

// TestMain lets the test binary play one run of the harness that takes a real host's lock
// (as job.Boot does), holds it a while and reports when it held it.
func TestMain(m *testing.M) {
	if spec := os.Getenv("JOB_LOCK_HELPER"); spec != "" {
		os.Exit(lockHelper(spec))
	}
	os.Exit(m.Run())
}

// lockHelper: spec is "<host name> <ser2net address>"; prints "held <start ns> <end ns>".
func lockHelper(spec string) int {
	name, addr, _ := strings.Cut(spec, " ")
	h := matrix.Host{Name: name, Kind: "serial", Arch: "x86_64", Options: map[string]any{"address": addr}}
	j := matrix.Job{Host: h, Image: matrix.Image{Name: "img"}, Suite: matrix.Suite{Name: "boot"}}
	l, err := acquireLock(context.Background(), j, Options{LockWait: time.Minute}, io.Discard)
	if err != nil {
		fmt.Println("error", err)
		return 1
	}
	start := time.Now().UnixNano()
	time.Sleep(700 * time.Millisecond)
	end := time.Now().UnixNano()
	if err := l.Release(); err != nil {
		fmt.Println("error", err)
		return 1
	}
	fmt.Println("held", start, end)
	return 0
}

// One ser2net console under two host names, used by two runs with different $TMPDIR and
// the default lock directory: the two never hold it at the same time. (Before the locks
// were keyed by endpoint in a fixed directory, each run locked its own name in its own
// $TMPDIR and both read the console at once.)
func TestOneConsoleTwoNamesTwoTMPDIRsNeverOverlap(t *testing.T) {
	// A port nobody serves: the lock is taken from the matrix's options, before any dial.
	addr := "127.0.0.1:" + strconv.Itoa(40000+os.Getpid()%20000)
	type span struct{ start, end int64 }
	results := make(chan span, 2)
	errs := make(chan error, 2)
	for _, name := range []string{"board-a", "board-a-renamed"} {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		env := []string{"JOB_LOCK_HELPER=" + name + " " + addr, "TMPDIR=" + t.TempDir(), lock.EnvDir + "="}
		cmd.Env = append(os.Environ(), env...)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() {
			defer cmd.Wait()
			line, _ := bufio.NewReader(out).ReadString('\n')
			var s span
			if _, err := fmt.Sscanf(line, "held %d %d", &s.start, &s.end); err != nil {
				errs <- fmt.Errorf("%s: %q", name, line)
				return
			}
			results <- s
		}()
	}
	// The lock file stays in the system's lock directory; remove this test's once done.
	defer os.Remove(filepath.Join(lock.DefaultDir(), lock.FileName("tcp:"+addr)))
	var spans []span
	for len(spans) < 2 {
		select {
		case s := <-results:
			spans = append(spans, s)
		case err := <-errs:
			t.Fatal(err)
		}
	}
	a, b := spans[0], spans[1]
	if a.start < b.end && b.start < a.end {
		t.Fatalf("both runs held the console at once for %s", time.Duration(min(a.end, b.end)-max(a.start, b.start)))
	}
}
