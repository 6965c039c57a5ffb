package netcheck

import (
	"context"
	"strings"

	"github.com/redox-hwtest/redox-hwtest/harness/job"
	"github.com/redox-hwtest/redox-hwtest/matrix"
	"github.com/redox-hwtest/redox-hwtest/record"
)

func init() {
	job.RegisterSuite("network", job.SuiteDef{Run: RunJob,
		Checks: func(*matrix.Matrix, matrix.Job) []string { return Checks }})
	job.RegisterShared("network", job.SharedSuite{Order: 20,
		BootArgs: func(j matrix.Job) string { return BootArgs(j.Image.Profile) },
		Judge:    judge})
}

// judge is the network suite in a boot shared with the other suites of the image x host
// (harness/schedule; the boot carries BootArgs): the job's HTTP server, then the lease, the
// gateway and the download.
func judge(ctx context.Context, m *matrix.Matrix, j matrix.Job, b *job.Booted, o job.Options) (job.Judged, error) {
	cfg := ConfigFor(&j.Host)
	srv, err := Start(cfg.Listen+":0", cfg.Size)
	if err != nil {
		return job.Judged{}, err
	}
	defer srv.Close()
	return job.Judged{Checks: Run(ctx, b, srv, cfg).Checks}, nil
}

// RunJob is the network suite's job, shared by suites/network and `redox-hwtest run`: start
// the job's HTTP server, boot, check the lease, the gateway and the download, write the record.
func RunJob(ctx context.Context, m *matrix.Matrix, j matrix.Job, o job.Options) (*record.Record, error) {
	cfg := ConfigFor(&j.Host)
	srv, err := Start(cfg.Listen+":0", cfg.Size)
	if err != nil {
		return nil, err
	}
	defer srv.Close()
	o.BootArgs = strings.TrimSpace(o.BootArgs + " " + BootArgs(j.Image.Profile))
	b := job.Boot(ctx, m, j, o)
	defer b.Close()
	rep := Run(ctx, b, srv, cfg)
	b.Close() // the record lists the complete transcript
	return b.WriteRecord(o.RunDir, rep.Checks)
}
