package power

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/redox-hwtest/redox-hwtest/hosts"
	"github.com/redox-hwtest/redox-hwtest/hosts/pxe"
	"github.com/redox-hwtest/redox-hwtest/matrix"
)

// How a real machine's image gets there (the boot option of serial, power and ipmi hosts).
const (
	// BootPreinstalled: the image is already on the machine; just power-cycle it.
	BootPreinstalled = "preinstalled"
	// BootCommand: run the flash command (image file in $RHW_IMAGE) with the power off,
	// e.g. an SD-mux or a USB-disk writer, then power on.
	BootCommand = "command"
	// BootPXE: serve the image and an iPXE script over HTTP (hosts/pxe); the machine
	// network-boots it (an IPMI host also sets the next boot device to PXE).
	BootPXE = "pxe"
)

// BootMethods lists the boot option's values.
var BootMethods = []string{BootPreinstalled, BootCommand, BootPXE}

// BootOptions are the provisioning keys of a real host's options.
type BootOptions struct {
	// Boot is preinstalled (default), command or pxe.
	Boot string `yaml:"boot"`
	// Flash is the command for boot: command (gets $RHW_IMAGE).
	Flash string `yaml:"flash"`
	// FlashTimeout bounds it (default 10m).
	FlashTimeout matrix.Duration `yaml:"flash_timeout"`
	// PXE configures the HTTP server for boot: pxe.
	PXE pxe.Config `yaml:"pxe"`
}

// DefaultFlashTimeout bounds a flash command.
const DefaultFlashTimeout = 10 * time.Minute

// Validate checks the keys against the host.
func (b *BootOptions) Validate(h *matrix.Host) error {
	switch b.Boot {
	case "":
		b.Boot = BootPreinstalled
	case BootPreinstalled, BootCommand, BootPXE:
	default:
		return h.Errorf("options.boot", "boot of host %q must be one of %s, got %q", h.Name, strings.Join(BootMethods, ", "), b.Boot)
	}
	if b.Boot == BootCommand && b.Flash == "" {
		return h.Errorf("options.flash", "host %q has boot: command but no flash command", h.Name)
	}
	if b.Boot != BootCommand && b.Flash != "" {
		return h.Errorf("options.flash", "flash of host %q is only used with boot: command", h.Name)
	}
	if b.Boot != BootPXE && (b.PXE != pxe.Config{}) {
		return h.Errorf("options.pxe", "pxe of host %q is only used with boot: pxe", h.Name)
	}
	if b.FlashTimeout.Duration < 0 {
		return h.Errorf("options.flash_timeout", "flash_timeout of host %q must not be negative", h.Name)
	}
	return nil
}

// Prepared is a provisioned boot: what to clean up, what to tell the commands.
type Prepared struct {
	// PXE is the running server for boot: pxe (nil otherwise).
	PXE *pxe.Server
	// Env is added to the environment of power commands (RHW_IMAGE, RHW_PXE_URL, ...).
	Env []string
}

// Close stops what Prepare started.
func (p *Prepared) Close() {
	if p != nil && p.PXE != nil {
		p.PXE.Close()
		p.PXE = nil
	}
}

// CommandRunner runs a named shell command (Command.Run).
type CommandRunner interface {
	Run(ctx context.Context, what, cmdline string, timeout time.Duration) (string, error)
}

// Prepare gets the image onto the machine while it is off: nothing (preinstalled), the
// flash command (run with runner), or a PXE server. Errors are lab failures (INFRA).
func Prepare(ctx context.Context, b BootOptions, h matrix.Host, img matrix.Image, env hosts.Env, runner CommandRunner) (*Prepared, error) {
	log := env.Log
	if log == nil {
		log = io.Discard
	}
	p := &Prepared{Env: []string{
		"RHW_HOST=" + h.Name, "RHW_IMAGE=" + imageFile(img), "RHW_IMAGE_NAME=" + img.Name,
		"RHW_BOOT_ARGS=" + env.BootArgs, "RHW_WORK_DIR=" + env.Dir,
	}}
	switch b.Boot {
	case BootCommand:
		if imageFile(img) == "" {
			return nil, hosts.Infra(fmt.Errorf("boot: command needs an image file; image %q has none", img.Name))
		}
		if runner == nil {
			return nil, hosts.Infra(fmt.Errorf("boot: command needs a command runner"))
		}
		timeout := b.FlashTimeout.Duration
		if timeout == 0 {
			timeout = DefaultFlashTimeout
		}
		if r, ok := runner.(*Command); ok {
			r.SetEnv(p.Env...)
		}
		fmt.Fprintf(log, "boot: flashing %s\n", img.Name)
		if _, err := runner.Run(ctx, "flash", b.Flash, timeout); err != nil {
			return nil, hosts.Infra(err)
		}
	case BootPXE:
		pb := pxe.Boot{Name: img.Name}
		if img.Kernel != "" {
			pb.Kernel, pb.Initrd, pb.Cmdline = img.Kernel, img.Initrd, joinArgs(img.Cmdline, env.BootArgs)
		} else {
			pb.Image = imageFile(img)
		}
		s, err := pxe.Start(b.PXE, pb, log)
		if err != nil {
			return nil, hosts.Infra(err)
		}
		p.PXE = s
		p.Env = append(p.Env, "RHW_PXE_URL="+s.ScriptURL())
	}
	return p, nil
}

func imageFile(img matrix.Image) string {
	if img.Path != "" {
		return img.Path
	}
	return img.Kernel
}

func joinArgs(a, b string) string {
	return strings.TrimSpace(a + " " + b)
}
