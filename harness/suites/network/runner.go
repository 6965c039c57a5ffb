package network

import (
	"context"
	"fmt"

	"github.com/redox-hwtest/redox-hwtest/harness/engine/job"
	"github.com/redox-hwtest/redox-hwtest/harness/engine/session"
	"github.com/redox-hwtest/redox-hwtest/matrix"
)

func init() {
	job.RegisterSuite("network", job.SuiteDef{Order: 20, Needs: Needs,
		Checks:   func(*matrix.Matrix, matrix.Job) []string { return Checks },
		BootArgs: func(j matrix.Job) string { return BootArgs(j.Image.Profile) },
		Judge:    judge})
}

// Needs are what the network suite's session reaches: netstack's routes and addresses.
var Needs = []string{session.NeedNetcfg}

// judge is the network suite on a booted guest (its own boot, or one shared with the other
// suites of the image x host, harness/lab/schedule; the boot carries BootArgs): the job's HTTP
// server, then the lease, the gateway and the download.
func judge(ctx context.Context, m *matrix.Matrix, j matrix.Job, b *job.Booted, o job.Options) (job.Judged, error) {
	if b.Profile != nil && Dialects[b.Profile.Name] == nil {
		// An OS the harness has no network dialect for is a harness error, never a SKIP.
		return job.Judged{}, fmt.Errorf("profile %s has no network dialect (harness/suites/network.Dialects; docs/extending.md)", b.Profile.Name)
	}
	cfg := ConfigFor(&j.Host)
	srv, err := Start(cfg.Listen+":0", cfg.Size)
	if err != nil {
		return job.Judged{}, err
	}
	defer srv.Close()
	return job.Judged{Checks: Run(ctx, b, srv, cfg).Checks}, nil
}
