// Package fakerun synthesises run directories for the report tests: a small matrix of
// images, virtual and real hosts and suites with every verdict, stage times that vary
// per night (for trends), and transcripts full of hostile console bytes.
package fakerun

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/redox-hwtest/redox-hwtest/record"
	"github.com/redox-hwtest/redox-hwtest/reports/runs"
)

// Hostile is console text that must never execute on the support page.
const Hostile = "<script>document.title='pwned'</script>"

// Nasty is console noise every writer must survive: colour escapes, NUL and other control
// characters, invalid UTF-8, a CDATA terminator, XML/HTML/Markdown metacharacters.
const Nasty = "\x1b[31mred\x1b[0m NUL\x00 BEL\x07 bad\xff\xfe utf8 \xc3( ]]> & \"q\" 'a' | pipe [x](y) " + Hostile

// Images of the synthetic matrix.
var (
	UEFI = record.Image{Name: "redox-0.9.0-desktop-uefi", Arch: "x86_64", Variant: "desktop", Version: "0.9.0", Date: "2026-03-17", Firmware: "uefi", Profile: "redox"}
	BIOS = record.Image{Name: "redox-0.9.0-desktop-bios", Arch: "x86_64", Variant: "desktop", Version: "0.9.0", Date: "2026-03-17", Firmware: "bios", Profile: "redox"}
	ARM  = record.Image{Name: "redox-0.9.0-server-aarch64", Arch: "aarch64", Variant: "server", Version: "0.9.0", Date: "2026-03-17", Firmware: "uefi", Profile: "redox"}
)

// Hosts of the synthetic matrix: two virtual machines and four real ones.
var (
	QEMU     = record.Host{Name: "qemu-q35", Kind: "qemu", Arch: "x86_64", Firmware: "uefi", Machine: "q35", CPU: "max", Memory: "2048M", SMP: 4, Accel: "tcg", Devices: []string{"nvme", "e1000", "hda", "xhci"}}
	QEMUArm  = record.Host{Name: "qemu-virt", Kind: "qemu", Arch: "aarch64", Firmware: "uefi", Machine: "virt", CPU: "max", Memory: "2048M", SMP: 1, Accel: "tcg", Devices: []string{"virtio-blk", "xhci"}}
	ThinkPad = record.Host{Name: "x220", Kind: "serial", Arch: "x86_64", Firmware: "uefi", Devices: []string{"ahci", "e1000", "hda", "ps2", "vesa"}, Vendor: "Lenovo", Model: "ThinkPad X220"}
	OptiPlex = record.Host{Name: "optiplex", Kind: "ipmi", Arch: "x86_64", Firmware: "uefi", Devices: []string{"nvme", "e1000", "hda", "xhci", "vesa"}, Vendor: "Dell", Model: "OptiPlex 7010"}
	Aspire   = record.Host{Name: "aspire", Kind: "serial", Arch: "x86_64", Firmware: "uefi", Devices: []string{"ahci", "rtl8168"}, Vendor: "Acer", Model: "Aspire One (D270)"}
	Pi       = record.Host{Name: "rpi3", Kind: "serial", Arch: "aarch64", Firmware: "u-boot", Devices: []string{"usb"}, Vendor: "Raspberry Pi", Model: "3 Model B+"}
)

// Base is the start time of night 0.
var Base = time.Date(2026, 3, 17, 1, 0, 0, 0, time.UTC)

// check builds a check.
func check(name string, v record.Verdict, msg string) record.Check {
	c := record.Check{Name: name, Verdict: v, Message: msg, Duration: 2 * time.Second}
	if v != record.Pass {
		c.Excerpt = "line before\n" + msg + "\n" + Nasty + "\nline after\n"
	}
	return c
}

// stages are the Redox boot stages up to login, shifted by night for the trend.
func stages(night int, upTo string) []record.Stage {
	names := []string{"firmware", "bootloader", "kernel", "init", "drivers", "login"}
	at := []float64{0.4, 1.1, 2.5, 4.0, 6.5, 11.0}
	var out []record.Stage
	for i, n := range names {
		d := time.Duration((at[i] + float64(night%3)*0.7*float64(i)/5) * float64(time.Second))
		out = append(out, record.Stage{Name: n, Line: 10 * (i + 1), At: d})
		if n == upTo {
			break
		}
	}
	return out
}

func rec(night int, img record.Image, h record.Host, suite string, checks ...record.Check) *record.Record {
	start := Base.Add(time.Duration(night) * 24 * time.Hour)
	r := &record.Record{
		Job: img.Name + "@" + h.Name + "/" + suite, Suite: suite, Image: img, Host: h,
		Started: start, Finished: start.Add(90 * time.Second), Checks: checks,
		Artifacts: map[string]string{"transcript": "transcript.log"},
	}
	if suite == "boot" {
		upTo := "login"
		for _, c := range checks {
			if c.Name == "boot/login" && c.Verdict != record.Pass {
				upTo = c.Stage
			}
		}
		r.Stages = stages(night, upTo)
	}
	return r
}

// Records returns the synthetic matrix of one night (night shifts times and stage
// durations; the verdicts are the same every night).
func Records(night int) []*record.Record {
	pass := func(n string) record.Check { return check(n, record.Pass, "") }
	hang := check("boot/login", record.Hang, "no output for 30s after stage kernel (last: acpid)")
	hang.Stage, hang.Component = "kernel", "acpid"
	nvme := check("drivers/nvme", record.Hang, "nvmed: failed to wait for ready")
	nvme.Stage, nvme.Component = "drivers", "nvmed"
	hda := check("drivers/hda", record.Crash, "panic in ihdad: "+Nasty)
	hda.Component, hda.Title = "ihdad", "panic at src/hda/device.rs: timeout on CORB command"
	xf := check("drivers/xhci", record.XFail, "xhcid: timeout")
	xf.Reference = "https://gitlab.redox-os.org/redox-os/drivers/-/issues/1"
	skip := check("drivers/hda", record.Skip, "host has no hda")
	infra := check("network/dhcp", record.Infra, "serial line dropped")
	xpass := pass("drivers/virtio-blk")
	xpass.Verdict, xpass.Reference = record.XPass, "https://gitlab.redox-os.org/redox-os/drivers/-/issues/2"

	var out []*record.Record
	for _, img := range []record.Image{UEFI, BIOS} {
		bootOK := []record.Check{pass("boot/bootloader"), pass("boot/kernel"), pass("boot/login")}
		out = append(out,
			rec(night, img, QEMU, "boot", bootOK...),
			rec(night, img, QEMU, "drivers", pass("drivers/nvme"), pass("drivers/e1000"), pass("drivers/hda"), xf),
			rec(night, img, ThinkPad, "boot", bootOK...),
			rec(night, img, ThinkPad, "drivers", pass("drivers/ahci"), pass("drivers/e1000"), pass("drivers/hda"), pass("drivers/ps2"), pass("drivers/vesa")),
			rec(night, img, ThinkPad, "network", pass("network/dhcp")),
		)
	}
	out = append(out,
		rec(night, UEFI, OptiPlex, "boot", pass("boot/bootloader"), pass("boot/kernel"), pass("boot/login")),
		rec(night, UEFI, OptiPlex, "drivers", nvme, pass("drivers/e1000"), hda, pass("drivers/vesa"), pass("drivers/xhci")),
		rec(night, UEFI, OptiPlex, "network", infra),
		rec(night, UEFI, Aspire, "boot", pass("boot/bootloader"), pass("boot/kernel"), hang),
		rec(night, ARM, QEMUArm, "boot", pass("boot/kernel"), pass("boot/login")),
		rec(night, ARM, QEMUArm, "drivers", xpass, skip),
		rec(night, ARM, Pi, "boot", pass("boot/kernel"), pass("boot/login")),
	)
	for _, r := range out {
		r.Format = record.FormatVersion
	}
	return out
}

// Info is the run.json of a night (shard 0 of 0 = unsharded).
func Info(night int) record.RunInfo {
	start := Base.Add(time.Duration(night) * 24 * time.Hour)
	return record.RunInfo{Format: record.FormatVersion, ID: fmt.Sprintf("nightly-%s", start.Format("2006-01-02")),
		Started: start, Finished: start.Add(2 * time.Hour), Matrix: "hw.yaml", Host: "controller-1"}
}

// WriteRun writes records into dir with a transcript each and run.json.
func WriteRun(dir string, info record.RunInfo, recs []*record.Record) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, r := range recs {
		jd, err := record.Write(dir, r)
		if err != nil {
			return err
		}
		tr := fmt.Sprintf("transcript of %s\r\n\x1b[1;32mRedox OS\x1b[0m starting\r\n%s\r\nredox login: \r\n", r.Job, Nasty)
		if err := os.WriteFile(filepath.Join(jd, "transcript.log"), []byte(tr), 0o644); err != nil {
			return err
		}
	}
	return runs.WriteInfo(dir, info)
}
