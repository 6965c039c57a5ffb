package drivers

import (
	"context"
	"fmt"

	"github.com/redox-hwtest/redox-hwtest/harness/engine/job"
	"github.com/redox-hwtest/redox-hwtest/harness/engine/session"
	"github.com/redox-hwtest/redox-hwtest/matrix"
)

func init() {
	job.RegisterSuite("drivers", job.SuiteDef{Order: 10, Checks: CheckNames, Needs: Needs, Judge: judge})
}

// Needs are what the drivers suite's session reaches: the driver logs, netstack's routes
// (the e1000 try) and ihdad's audiohw scheme (the HDA try).
var Needs = []string{session.NeedLogs, session.NeedNetcfg, "audiohw"}

// judge is the drivers suite on a booted guest (its own boot, or one shared with the other
// suites of the image x host, harness/lab/schedule): every device the matrix lists, and the
// driver logs.
func judge(ctx context.Context, m *matrix.Matrix, j matrix.Job, b *job.Booted, o job.Options) (job.Judged, error) {
	if b.Profile != nil && Tables[b.Profile.Name] == nil {
		// An OS the harness has no driver table for is a harness error, never a SKIP.
		return job.Judged{}, fmt.Errorf("profile %s has no driver table (harness/suites/drivers; docs/extending.md)", b.Profile.Name)
	}
	rep := Run(ctx, b, Devices(m))
	arts, err := session.CollectJobLogs(ctx, b, rep.Session)
	if err != nil && o.Log != nil {
		fmt.Fprintf(o.Log, "driver logs: %v\n", err)
	}
	return job.Judged{Checks: rep.Checks, Artifacts: arts}, nil
}

// CheckNames are the checks the suite writes: drivers/<device> for every device the matrix
// lists (SKIP on a host without it).
func CheckNames(m *matrix.Matrix, _ matrix.Job) []string {
	var names []string
	for _, d := range Devices(m) {
		names = append(names, CheckName(d))
	}
	return names
}
