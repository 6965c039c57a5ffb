package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/redox-hwtest/redox-hwtest/harness/lab/bisect"
	"github.com/redox-hwtest/redox-hwtest/matrix"
)

func init() {
	register("bisect", "find which driver's absence lets a hanging boot reach login (boot-loader skip or a VM without the device)", bisectMain)
}

// bisectMain reboots a hanging job with devices left out, each by the method that can
// (skip: its init units skipped at the boot loader, Redox INIT_SKIP=<cmd> in the
// bootloader's editor, the stand-in's systemd-boot editor; device: a VM started without
// it), and names the device whose absence lets the boot through. It prints the plan (per
// device the method, or why none applies: on real hardware only init units can be left
// out) and why it stopped. Exit 0 when a culprit was found, 1 when the hang did not
// reproduce or no single device explains it, 2 on bad input.
func bisectMain(args []string) int {
	c := newMatrixCommand("bisect", false)
	fs := c.fs
	jobID := fs.String("job", "", "the job to bisect, as image@host/suite (see `run` output)")
	bootArgs := fs.String("boot-args", "", "extra guest switches for every boot")
	method := fs.String("method", "", "leave every device out by this method: skip or device (default: per device, skip where an init unit starts its driver and the boot loader's editor is reachable, else device on a VM)")
	out := fs.String("out", "", "directory for the boots' run directories (default <out_dir>/bisect/<time>)")
	m, _, ok := c.load(args)
	if !ok {
		return 2
	}
	var job *matrix.Job
	for _, j := range m.Jobs(matrix.Filter{}) {
		if j.ID() == *jobID {
			job = &j
			break
		}
	}
	if job == nil {
		fmt.Fprintf(os.Stderr, "bisect: no job %q in %s\n", *jobID, m.Path)
		return 2
	}
	dir := *out
	if dir == "" {
		dir = filepath.Join(m.Settings.OutDir, "bisect", time.Now().UTC().Format("20060102T150405Z"))
	}
	ctx, stop := interruptible()
	defer stop()
	res, err := bisect.Run(ctx, bisect.Options{Matrix: m, Job: *job, RunDir: dir, BootArgs: *bootArgs,
		Method: bisect.Method(*method),
		Log:    func(s string) { fmt.Println(s) }})
	if err != nil {
		fmt.Fprintln(os.Stderr, "bisect:", err)
		return 2
	}
	fmt.Println(res.Summary)
	if res.Culprit != "" {
		fmt.Printf("culprit %s (method %s)\n", res.Culprit, res.Method)
	}
	if res.Culprit == "" {
		return 1
	}
	return 0
}
