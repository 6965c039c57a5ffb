package drivers

import (
	"context"
	"fmt"

	"github.com/redox-hwtest/redox-hwtest/harness/job"
	"github.com/redox-hwtest/redox-hwtest/harness/session"
	"github.com/redox-hwtest/redox-hwtest/matrix"
	"github.com/redox-hwtest/redox-hwtest/record"
)

func init() {
	job.RegisterSuite("drivers", job.SuiteDef{Run: RunJob, Checks: CheckNames})
	job.RegisterShared("drivers", job.SharedSuite{Order: 10, Judge: judge})
}

// judge is the drivers suite in a boot shared with the other suites of the image x host
// (harness/schedule): every device the matrix lists, and the driver logs.
func judge(ctx context.Context, m *matrix.Matrix, j matrix.Job, b *job.Booted, o job.Options) (job.Judged, error) {
	rep := Run(ctx, b, Devices(m))
	arts, err := session.CollectJobLogs(ctx, b, rep.Session)
	if err != nil && o.Log != nil {
		fmt.Fprintf(o.Log, "driver logs: %v\n", err)
	}
	return job.Judged{Checks: rep.Checks, Artifacts: arts}, nil
}

// CheckNames are the checks RunJob writes: drivers/<device> for every device the matrix
// lists (SKIP on a host without it).
func CheckNames(m *matrix.Matrix, _ matrix.Job) []string {
	var names []string
	for _, d := range Devices(m) {
		names = append(names, CheckName(d))
	}
	return names
}

// RunJob is the drivers suite's job, shared by suites/drivers and `redox-hwtest run`: boot,
// judge every device the matrix lists, collect the driver logs, write the record.
func RunJob(ctx context.Context, m *matrix.Matrix, j matrix.Job, o job.Options) (*record.Record, error) {
	b := job.Boot(ctx, m, j, o)
	defer b.Close()
	rep := Run(ctx, b, Devices(m))
	arts, err := session.CollectJobLogs(ctx, b, rep.Session)
	if err != nil && o.Log != nil {
		fmt.Fprintf(o.Log, "driver logs: %v\n", err)
	}
	b.Close() // the record lists the complete transcript
	rec := b.Record(rep.Checks)
	for k, v := range arts {
		rec.Artifacts[k] = v
	}
	_, err = record.Write(o.RunDir, rec)
	return rec, err
}
