package site

import (
	"fmt"
	"math"
	"regexp"
	"sort"
	"strings"

	"github.com/redox-hwtest/redox-hwtest/reports/internal/text"
)

// trendPoint is one measurement of one boot: the series (image, or stage), the run it
// belongs to, and seconds since power-on.
type trendPoint struct {
	series, run string
	secs        float64
}

type dot struct {
	X, Y  float64
	Title string
}

type series struct {
	Name, Color, Points string
	Dots                []dot
}

type tick struct {
	Y    float64
	Text string
}

type xlabel struct {
	X    float64
	Text string
}

// trend is an inline SVG line chart over runs: one line per series.
type trend struct {
	Empty               bool
	Label               string // what the chart shows, for screen readers
	W, H                int
	Left, Right, LabelY float64
	Series              []series
	YTicks              []tick
	XLabels             []xlabel
}

var palette = []string{"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2"}

// maxDots is the number of points per series above which only the line is drawn (each
// dot carries a tooltip; a year of nightlies of them would weigh more than the page).
const maxDots = 60

// makeTrend lays out the chart: x = run (in run order), y = seconds; series in order
// (then alphabetically for any not listed); what says what a point measures.
func makeTrend(runIDs []string, pts []trendPoint, order []string, what string) trend {
	t := trend{W: 720, H: 260, Left: 56, Right: 656, LabelY: 252, Label: "seconds " + what + ", per run"}
	if len(pts) == 0 {
		t.Empty = true
		return t
	}
	top, bottom := 16.0, 226.0
	pos := map[string]int{}
	for i, id := range runIDs {
		pos[id] = i
	}
	maxY := 0.0
	for _, p := range pts {
		maxY = math.Max(maxY, p.secs)
	}
	step := niceStep(maxY / 4)
	maxY = math.Ceil(maxY/step) * step
	if maxY == 0 {
		maxY = 1
	}
	x := func(i int) float64 {
		if len(runIDs) == 1 {
			return (t.Left + t.Right) / 2
		}
		return t.Left + 12 + float64(i)*(t.Right-t.Left-24)/float64(len(runIDs)-1)
	}
	y := func(s float64) float64 { return bottom - s/maxY*(bottom-top) }
	for v := 0.0; v <= maxY+step/2; v += step {
		t.YTicks = append(t.YTicks, tick{Y: round(y(v)), Text: fmt.Sprintf("%g s", v)})
	}
	// At most ~8 run labels, evenly spread.
	every := (len(runIDs) + 7) / 8
	for i, id := range runIDs {
		if i%every == 0 || i == len(runIDs)-1 {
			t.XLabels = append(t.XLabels, xlabel{X: round(x(i)), Text: runLabel(id)})
		}
	}
	bySeries := map[string][]trendPoint{}
	for _, p := range pts {
		bySeries[p.series] = append(bySeries[p.series], p)
	}
	names := append([]string(nil), order...)
	for _, n := range keys(bySeries) {
		if !contains(names, n) {
			names = append(names, n)
		}
	}
	k := -1
	for _, name := range names {
		if len(bySeries[name]) == 0 {
			continue
		}
		k++
		ps := bySeries[name]
		sort.SliceStable(ps, func(i, j int) bool { return pos[ps[i].run] < pos[ps[j].run] })
		s := series{Name: text.Clean(name), Color: palette[k%len(palette)]}
		var coords []string
		for _, p := range ps {
			d := dot{X: round(x(pos[p.run])), Y: round(y(p.secs))}
			if len(ps) <= maxDots {
				d.Title = text.OneLine(fmt.Sprintf("%s, run %s: %.2f s %s", name, p.run, p.secs, what), 200)
				s.Dots = append(s.Dots, d)
			}
			coords = append(coords, fmt.Sprintf("%g,%g", d.X, d.Y))
		}
		s.Points = strings.Join(coords, " ")
		t.Series = append(t.Series, s)
	}
	return t
}

var dateRe = regexp.MustCompile(`\d{4}-\d{2}-\d{2}`)

// runLabel is a run's short name on an axis: the date in its ID when there is one (a
// nightly's ID carries it), else its first characters.
func runLabel(id string) string {
	if d := dateRe.FindString(id); d != "" {
		return d
	}
	return text.OneLine(id, 12)
}

func round(f float64) float64 { return math.Round(f*10) / 10 }

// niceStep rounds a raw tick step up to 1, 2 or 5 times a power of ten.
func niceStep(raw float64) float64 {
	if raw <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if raw <= m*p {
			return m * p
		}
	}
	return 10 * p
}
