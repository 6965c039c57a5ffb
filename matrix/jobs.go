package matrix

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Jobs expands the matrix into image x host x suite, keeping the pairs where the image
// fits the host (Host.CanRun), the job carries every label the suite selects on, and the
// filter matches. The order is the matrix file's: suites, then images, then hosts, so
// every process of a parallel run builds the same list. Jobs share the matrix's slices;
// do not modify them.
//
// With f.Shards > 1 only every job whose index in the filtered list satisfies
// index % Shards == Shard is kept (Shard counts from 0; out of range keeps none): the
// shards of one filter are disjoint and together are the unsharded list.
func (m *Matrix) Jobs(f Filter) []Job {
	var jobs []Job
	for si := range m.Suites {
		for ii := range m.Images {
			for hi := range m.Hosts {
				if ok, _ := m.Hosts[hi].CanRun(&m.Images[ii]); !ok {
					continue
				}
				j := Job{Image: m.Images[ii], Host: m.Hosts[hi], Suite: m.Suites[si]}
				labels := j.Labels()
				if !matchAll(m.Suites[si].Labels, labels) || !f.Match(labels) {
					continue
				}
				jobs = append(jobs, j)
			}
		}
	}
	if f.Shards <= 1 {
		return jobs
	}
	var shard []Job
	for i, j := range jobs {
		if i%f.Shards == f.Shard {
			shard = append(shard, j)
		}
	}
	return shard
}

// CanRun reports whether img boots on h: the same arch; the same firmware when both
// say; transcript images only on replay hosts and replay hosts only transcript images;
// direct kernel boots only on virtual hosts. If not, why says so.
func (h *Host) CanRun(img *Image) (ok bool, why string) {
	ok, why, _ = fit(img, h)
	return ok, why
}

// Firmware is the job's firmware: the image's, else the host's ("" if neither says).
func (j Job) Firmware() string {
	if j.Image.Firmware != "" {
		return j.Image.Firmware
	}
	return j.Host.Firmware
}

// Labels are the job's labels, in this order and without repeats: the automatic ones
// suite:<name>, image:<name>, host:<name>, arch:<arch>, kind:<host kind>,
// variant:<variant> and firmware:<firmware> (the last two when known), then the image's
// labels, then the host's. They are valid Ginkgo labels.
func (j Job) Labels() []string {
	l := []string{
		"suite:" + j.Suite.Name,
		"image:" + j.Image.Name,
		"host:" + j.Host.Name,
		"arch:" + j.Image.Arch,
		"kind:" + j.Host.Kind,
	}
	if j.Image.Variant != "" {
		l = append(l, "variant:"+j.Image.Variant)
	}
	if fw := j.Firmware(); fw != "" {
		l = append(l, "firmware:"+fw)
	}
	for _, x := range [][]string{j.Image.Labels, j.Host.Labels} {
		for _, s := range x {
			if !slices.Contains(l, s) {
				l = append(l, s)
			}
		}
	}
	return l
}

// HasLabel reports whether the job carries label l.
func (j Job) HasLabel(l string) bool { return slices.Contains(j.Labels(), l) }

// XFail is the host's expected failure for check on this job's image, or nil.
func (j Job) XFail(check string) *XFail { return j.Host.XFailFor(check, j.Image.Name) }

// Filter selects jobs.
type Filter struct {
	// Labels must all be on a job; one written "!label" must not be.
	Labels []string
	// Shard and Shards split the selected jobs: see Matrix.Jobs. Shards <= 1 means all.
	Shard, Shards int
}

// ParseSelection reads the -filter and -shard flags every command and Ginkgo suite takes
// (one parser, so they accept the same things): filter as ParseFilter, shard as "i/n" with
// 0 <= i < n ("" is no sharding). The error names the flag.
func ParseSelection(filter, shard string) (Filter, error) {
	f, err := ParseFilter(filter)
	if err != nil {
		return Filter{}, fmt.Errorf("-filter: %w", err)
	}
	if shard == "" {
		return f, nil
	}
	is, ns, ok := strings.Cut(shard, "/")
	i, err1 := strconv.Atoi(is)
	n, err2 := strconv.Atoi(ns)
	if !ok || err1 != nil || err2 != nil || n < 1 {
		return Filter{}, fmt.Errorf("-shard %q: want i/n with 0 <= i < n", shard)
	}
	f.Shard, f.Shards = i, n
	if err := f.Validate(); err != nil || i < 0 {
		return Filter{}, fmt.Errorf("-shard %q: want i/n with 0 <= i < n", shard)
	}
	return f, nil
}

// ParseFilter reads a comma-separated label filter: "arch:x86_64,!kind:replay".
// Spaces around the items are ignored; an empty string selects everything.
func ParseFilter(s string) (Filter, error) {
	var f Filter
	if strings.TrimSpace(s) == "" {
		return f, nil
	}
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if err := checkSelector(item); err != nil {
			return Filter{}, fmt.Errorf("filter %q: %w", s, err)
		}
		f.Labels = append(f.Labels, item)
	}
	return f, nil
}

// Validate reports a malformed label or a shard out of range.
func (f Filter) Validate() error {
	for _, l := range f.Labels {
		if err := checkSelector(l); err != nil {
			return err
		}
	}
	if f.Shards > 1 && (f.Shard < 0 || f.Shard >= f.Shards) {
		return fmt.Errorf("shard %d is out of range: shards count from 0 to %d", f.Shard, f.Shards-1)
	}
	if f.Shards < 0 {
		return fmt.Errorf("negative shard count %d", f.Shards)
	}
	return nil
}

// Match reports whether labels satisfy every label of the filter (sharding aside).
func (f Filter) Match(labels []string) bool { return matchAll(f.Labels, labels) }

// String writes the filter's labels the way ParseFilter reads them.
func (f Filter) String() string { return strings.Join(f.Labels, ",") }

func matchAll(selectors, labels []string) bool {
	for _, s := range selectors {
		if neg, ok := strings.CutPrefix(s, "!"); ok {
			if slices.Contains(labels, neg) {
				return false
			}
		} else if !slices.Contains(labels, s) {
			return false
		}
	}
	return true
}

// checkSelector checks one label selector: a label, or "!" and a label.
func checkSelector(s string) error {
	l := strings.TrimPrefix(s, "!")
	switch {
	case s == "":
		return errors.New("empty label")
	case l == "":
		return errors.New(`"!" needs a label after it`)
	case !reLabel.MatchString(l):
		return fmt.Errorf("invalid label %q: use letters, digits and . _ : = + @ -, starting with a letter or digit", l)
	}
	return nil
}
