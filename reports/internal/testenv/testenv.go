// Package testenv finds the external programs report tests run (xmllint, chromium). As the
// README says of `make test`, a missing Debian package is installed when the tests run as
// root (saying so); otherwise the test is skipped with the reason.
package testenv

import (
	"os"
	"os/exec"
	"sync"
	"testing"
)

var mu sync.Mutex

// Need returns the path of program, installing the Debian package pkg when the program
// is missing and the test runs as root with apt-get available; otherwise it skips t.
func Need(t testing.TB, program, pkg string) string {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	if p, err := exec.LookPath(program); err == nil {
		return p
	}
	if os.Geteuid() != 0 {
		t.Skipf("%s not installed (Debian package %s) and not root, so not installing it: skipping", program, pkg)
	}
	apt, err := exec.LookPath("apt-get")
	if err != nil {
		t.Skipf("%s not installed and no apt-get to install %s: skipping", program, pkg)
	}
	t.Logf("%s missing: installing Debian package %s (apt-get install -y %s)", program, pkg, pkg)
	cmd := exec.Command(apt, "install", "-y", "--no-install-recommends", pkg)
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	if out, err := cmd.CombinedOutput(); err != nil {
		upd := exec.Command(apt, "update")
		upd.Env = cmd.Env
		if uout, uerr := upd.CombinedOutput(); uerr != nil {
			t.Skipf("apt-get install %s failed (%v) and apt-get update failed (%v): %s %s", pkg, err, uerr, out, uout)
		}
		cmd = exec.Command(apt, "install", "-y", "--no-install-recommends", pkg)
		cmd.Env = upd.Env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Skipf("apt-get install %s failed: %v\n%s", pkg, err, out)
		}
	}
	p, err := exec.LookPath(program)
	if err != nil {
		t.Skipf("installed %s but %s is still not on PATH", pkg, program)
	}
	return p
}
