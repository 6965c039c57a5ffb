package screen

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"time"

	"github.com/redox-hwtest/redox-hwtest/harness/engine/profile"
	"github.com/redox-hwtest/redox-hwtest/hosts"
)

// Dir is where captures go, relative to the job directory.
const Dir = "screens"

// Capture is one stored look at the screen.
type Capture struct {
	// File is the PNG, relative to the job directory. A screen identical to the one stored
	// before it is not stored again: its capture names the earlier file.
	File string `json:"file"`
	// Why it was taken: "stage kernel", "HANG", "end".
	Why string `json:"why"`
	// At is the time since the recorder started (power-on).
	At   time.Duration `json:"at_ns"`
	Same bool          `json:"same,omitempty"`
}

// Stats is what the screen work cost.
type Stats struct {
	Dumps    int           // screendumps taken (captures and looks)
	DumpTime time.Duration // time spent in them
	OCRRuns  int
	OCRTime  time.Duration
	OCRCells int // of OCRRuns, those the cell recogniser read (no tesseract)
}

// Recorder is one job's screen: captures, looks for screen markers, keys.
type Recorder struct {
	jobDir string
	scr    hosts.Screen
	ocr    *OCR
	start  time.Time

	mu        sync.Mutex
	captures  []Capture
	lastHash  [32]byte
	lastImg   image.Image // the screen last stored, decoded
	lastFile  string
	stored    int
	seenHash  [32]byte // the screen the cached look below belongs to
	seenImg   image.Image
	seenText  string
	textImg   image.Image // the screen seenText was read from
	textValid bool
	seenLooks int // consecutive looks that found this same screen
	stats     Stats
	failed    string // first error of a capture, for the record
}

// NewRecorder makes the recorder of a job whose directory is jobDir; ocr may be nil (the
// default tesseract). start is power-on.
func NewRecorder(jobDir string, scr hosts.Screen, ocr *OCR, start time.Time) *Recorder {
	if ocr == nil {
		ocr = &OCR{}
	}
	return &Recorder{jobDir: jobDir, scr: scr, ocr: ocr, start: start}
}

// grab takes a screendump and hashes its pixels.
func (r *Recorder) grab(ctx context.Context) (image.Image, [32]byte, error) {
	t0 := time.Now()
	img, err := r.scr.Screendump(ctx)
	var h [32]byte
	if err == nil {
		rgba := toRGBA(img)
		h = sha256.Sum256(rgba.Pix)
		img = rgba
	}
	r.mu.Lock()
	r.stats.Dumps++
	r.stats.DumpTime += time.Since(t0)
	r.mu.Unlock()
	return img, h, err
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// Capture stores the screen as evidence, labelled why. Errors are kept for the record
// (Problem), never fatal: a missing screen must not change a verdict.
func (r *Recorder) Capture(ctx context.Context, why string) {
	img, h, err := r.grab(ctx)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		if r.failed == "" {
			r.failed = fmt.Sprintf("capture %q: %v", why, err)
		}
		return
	}
	c := Capture{Why: why, At: time.Since(r.start)}
	if r.lastFile != "" && (h == r.lastHash || NearlySame(img, r.lastImg)) {
		c.File, c.Same = r.lastFile, true
	} else {
		r.stored++
		name := fmt.Sprintf("%02d-%s.png", r.stored, unsafeName.ReplaceAllString(why, "-"))
		rel := filepath.Join(Dir, name)
		var data bytes.Buffer
		err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&data, img)
		if err == nil {
			err = os.MkdirAll(filepath.Join(r.jobDir, Dir), 0o755)
		}
		if err == nil {
			err = os.WriteFile(filepath.Join(r.jobDir, rel), data.Bytes(), 0o644)
		}
		if err != nil {
			if r.failed == "" {
				r.failed = fmt.Sprintf("store %s: %v", rel, err)
			}
			r.stored--
			return
		}
		r.lastHash, r.lastImg, r.lastFile, c.File = h, img, rel, rel
	}
	r.captures = append(r.captures, c)
}

// Captures lists the captures so far, in order.
func (r *Recorder) Captures() []Capture {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Capture(nil), r.captures...)
}

// Last is the file of the last capture ("" when none).
func (r *Recorder) Last() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.captures) == 0 {
		return ""
	}
	return r.captures[len(r.captures)-1].File
}

// Problem is the first capture error, "" when every capture worked.
func (r *Recorder) Problem() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.failed
}

// Stats returns the cost so far.
func (r *Recorder) Stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stats
}

// Press types key chords on the machine's keyboard.
func (r *Recorder) Press(ctx context.Context, chords []string) error {
	return r.scr.SendKeys(ctx, chords)
}

// Look reads the screen for the screen markers of the given stages and responses (indexes
// into p.Stages and p.Responses) and returns those it saw. The screen is dumped and hashed
// on every call; it is read by OCR only when it changed since it was last read (and only
// when a text marker is asked for), so an unchanged screen costs a dump and a hash.
//
// A text marker is read only on a settled screen (the same at two looks in a row).
func (r *Recorder) Look(ctx context.Context, p *profile.Profile, stages, responses []int) (seenStages, seenResponses []int, err error) {
	var markers [][]profile.ScreenMarker
	for _, i := range stages {
		markers = append(markers, p.Stages[i].Screen)
	}
	for _, i := range responses {
		markers = append(markers, []profile.ScreenMarker{*p.Responses[i].Screen})
	}
	seen, err := r.LookFor(ctx, markers)
	if err != nil {
		return nil, nil, err
	}
	for k, ok := range seen {
		switch {
		case !ok:
		case k < len(stages):
			seenStages = append(seenStages, stages[k])
		default:
			seenResponses = append(seenResponses, responses[k-len(stages)])
		}
	}
	return seenStages, seenResponses, nil
}

// LookFor reports, for each group of markers, whether any of them is on the screen now.
func (r *Recorder) LookFor(ctx context.Context, groups [][]profile.ScreenMarker) ([]bool, error) {
	img, h, err := r.grab(ctx)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	prev, changed := r.seenImg, h != r.seenHash || r.seenImg == nil
	r.seenHash, r.seenImg = h, img
	if changed && !NearlySame(prev, img) {
		r.seenLooks = 0 // still being drawn
	}
	r.seenLooks++
	if r.textValid && !NearlySame(r.textImg, img) {
		// Not the screen the text was read from (a blinking cursor aside): read again
		// when text is asked for.
		r.textValid = false
	}
	r.mu.Unlock()
	out := make([]bool, len(groups))
	for k, g := range groups {
		for _, m := range g {
			ok, err := r.sees(ctx, img, m)
			if err != nil {
				return nil, err
			}
			if ok {
				out[k] = true
				break
			}
		}
	}
	return out, nil
}

// ReadText returns the OCR text of the screen now (read again only when it changed).
func (r *Recorder) ReadText(ctx context.Context) (string, error) {
	if _, err := r.LookFor(ctx, nil); err != nil {
		return "", err
	}
	r.mu.Lock()
	img := r.seenImg
	r.mu.Unlock()
	return r.text(ctx, img)
}

// Text is the OCR text of the screen last looked at (read once per distinct screen).
func (r *Recorder) text(ctx context.Context, img image.Image) (string, error) {
	r.mu.Lock()
	if r.textValid {
		t := r.seenText
		r.mu.Unlock()
		return t, nil
	}
	r.mu.Unlock()
	t0 := time.Now()
	rd, err := r.ocr.Recognise(ctx, img)
	t := rd.Text
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stats.OCRRuns++
	r.stats.OCRTime += time.Since(t0)
	if rd.Engine == EngineCells {
		r.stats.OCRCells++
	}
	if err != nil {
		return "", err
	}
	r.seenText, r.textImg, r.textValid = t, img, true
	return t, nil
}

func (r *Recorder) sees(ctx context.Context, img image.Image, m profile.ScreenMarker) (bool, error) {
	if m.Needle != nil {
		ok, _, err := MatchNeedle(img, m.Needle)
		return ok, err
	}
	if m.Text == "" {
		return false, nil
	}
	r.mu.Lock()
	settled := r.seenLooks >= 2 || r.textValid
	r.mu.Unlock()
	if !settled {
		// Text is read on a screen that stayed the same for two looks: a screen still
		// being drawn, or one the boot passes through in a moment, costs no OCR (a menu
		// waiting for a key, or a desktop, stays).
		return false, nil
	}
	t, err := r.text(ctx, img)
	if err != nil {
		return false, err
	}
	return HasPhrase(t, m.Text), nil
}
