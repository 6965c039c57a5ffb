package ipmi

import (
	"context"
	"os"
	"os/exec"
	"strconv"

	"github.com/redox-hwtest/redox-hwtest/hosts/secrets"
)

// ToolCommand is ipmitool for the host (lanplus, its cipher suite, user and privilege),
// for looking at a lab BMC by hand or from a script. The password travels in the
// environment (-E reads IPMI_PASSWORD), never in the arguments: a command line is readable
// by every user of the machine (/proc/<pid>/cmdline), the environment only by its owner.
// Run "sol activate" under a pty (ipmi_sim 2.0.33 crashes a few seconds after a SOL
// session whose ipmitool has no tty and never deactivates).
func ToolCommand(ctx context.Context, o Options, password string, args ...string) *exec.Cmd {
	host, port, _ := splitAddress(o.Address)
	priv := "ADMINISTRATOR"
	if o.Privilege == "operator" {
		priv = "OPERATOR"
	}
	argv := []string{"-I", "lanplus", "-C", strconv.Itoa(o.Cipher), "-H", host, "-p", strconv.Itoa(port),
		"-U", o.User, "-L", priv, "-E"}
	cmd := exec.CommandContext(ctx, "ipmitool", append(argv, args...)...)
	cmd.Env = secrets.Env(os.Environ(), "IPMI_PASSWORD", password)
	return cmd
}
