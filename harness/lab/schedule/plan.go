// Package schedule runs a matrix's jobs the way a lab scheduler would: every host busy at
// once, none running two jobs at once, and one boot serving all the suites of an image x
// host.
//
// Plan groups the jobs into units: the suites of one image x host that can share a boot
// (job.RegisterSuite with a Judge) form one unit run in one boot, in a fixed order (boot, drivers,
// network, guest); a suite that declares a fresh boot, or has no shared form (abi), is a
// unit of its own. Run then starts units longest-first (by the last run's recorded
// durations) whenever their host has a free slot and, for VM hosts, the controller has a
// free VM slot (cores and memory, or -j).
package schedule

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/redox-hwtest/redox-hwtest/harness/engine/job"
	"github.com/redox-hwtest/redox-hwtest/matrix"
)

// Unit is work for one host: jobs run one after the other, sharing boots when Shared.
type Unit struct {
	Jobs   []matrix.Job
	Shared bool
	// Expected is how long the unit is expected to take (the last run's durations), zero
	// when unknown.
	Expected time.Duration
	// Fresh says why a shared suite was planned into a boot of its own.
	Fresh string
}

// Host is the unit's host.
func (u *Unit) Host() *matrix.Host { return &u.Jobs[0].Host }

// Pair is "<image>@<host>".
func (u *Unit) Pair() string { return u.Jobs[0].Image.Name + "@" + u.Jobs[0].Host.Name }

// IsVM reports whether jobs on h use the controller's cores (matrix.Host.Virtual, the one
// answer); every other kind is a machine or a player of its own.
func IsVM(h *matrix.Host) bool { return h.Virtual() }

// Plan groups jobs into units (see the package comment). Jobs keep the matrix's order
// inside a unit apart from the shared suites' fixed order; units come in the order of their
// first job. expected maps a job ID to its last recorded duration (nil: none known).
func Plan(jobs []matrix.Job, expected map[string]time.Duration) []*Unit {
	var units []*Unit
	byPair := map[string]*Unit{}
	for _, j := range jobs {
		s, ok := job.Shared(j.Suite.Name)
		switch {
		case !ok:
			units = append(units, &Unit{Jobs: []matrix.Job{j}})
			continue
		case s.Fresh || j.Suite.FreshBoot:
			units = append(units, &Unit{Jobs: []matrix.Job{j}, Shared: true, Fresh: j.Suite.Name + " declares a fresh boot"})
			continue
		}
		key := j.Image.Name + "@" + j.Host.Name
		u := byPair[key]
		if u == nil {
			u = &Unit{Shared: true}
			byPair[key] = u
			units = append(units, u)
		}
		u.Jobs = append(u.Jobs, j)
	}
	for _, u := range units {
		if u.Shared {
			slices.SortStableFunc(u.Jobs, func(a, b matrix.Job) int {
				sa, _ := job.Shared(a.Suite.Name)
				sb, _ := job.Shared(b.Suite.Name)
				return cmp.Compare(sa.Order, sb.Order)
			})
		}
		for _, j := range u.Jobs {
			u.Expected += expected[j.ID()]
		}
	}
	return units
}

// Order sorts units longest expected first (list scheduling: the longest jobs start early,
// so the makespan stays close to the longest single unit). A unit with no recorded duration
// counts as the mean of the known ones (all equal when none is known: then the units with
// more suites go first). Ties keep the plan's order.
func Order(units []*Unit) []*Unit {
	var sum time.Duration
	n := 0
	for _, u := range units {
		if u.Expected > 0 {
			sum += u.Expected
			n++
		}
	}
	guess := func(u *Unit) time.Duration {
		if u.Expected > 0 {
			return u.Expected
		}
		if n > 0 {
			return sum / time.Duration(n)
		}
		return time.Duration(len(u.Jobs)) * time.Minute
	}
	out := slices.Clone(units)
	slices.SortStableFunc(out, func(a, b *Unit) int { return cmp.Compare(guess(b), guess(a)) })
	return out
}

// joinArgs joins guest switches, dropping duplicates (two suites may need the same one).
func joinArgs(parts ...string) string {
	var out []string
	for _, p := range parts {
		for _, w := range strings.Fields(p) {
			if !slices.Contains(out, w) {
				out = append(out, w)
			}
		}
	}
	return strings.Join(out, " ")
}
