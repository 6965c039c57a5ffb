package screen

import (
	"bytes"
	"fmt"
	"image"
	"image/draw"
	"image/png"
	"sync"

	"github.com/redox-hwtest/redox-hwtest/harness/engine/profile"
)

// DefaultTolerance is the mean difference per colour channel a needle allows by default.
const DefaultTolerance = 12

var (
	needleMu    sync.Mutex
	needleCache = map[*profile.Needle]*image.RGBA{}
)

func needleImage(n *profile.Needle) (*image.RGBA, error) {
	needleMu.Lock()
	defer needleMu.Unlock()
	if im, ok := needleCache[n]; ok {
		return im, nil
	}
	src, err := png.Decode(bytes.NewReader(n.PNG))
	if err != nil {
		return nil, fmt.Errorf("needle %s: %w", n.Name, err)
	}
	im := toRGBA(src)
	needleCache[n] = im
	return im, nil
}

func toRGBA(src image.Image) *image.RGBA {
	if im, ok := src.(*image.RGBA); ok && im.Bounds().Min == (image.Point{}) {
		return im
	}
	b := src.Bounds()
	im := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(im, im.Bounds(), src, b.Min, draw.Src)
	return im
}

// MatchNeedle looks for the needle on the screen at its place, give or take its search
// margin, and returns whether it matched and the best mean difference per channel found
// (0 = identical; -1 when the needle does not fit on the screen at all).
func MatchNeedle(screen image.Image, n *profile.Needle) (bool, float64, error) {
	ref, err := needleImage(n)
	if err != nil {
		return false, -1, err
	}
	scr := toRGBA(screen)
	tol := n.Tolerance
	if tol <= 0 {
		tol = DefaultTolerance
	}
	rw, rh := ref.Bounds().Dx(), ref.Bounds().Dy()
	sw, sh := scr.Bounds().Dx(), scr.Bounds().Dy()
	best := -1.0
	channels := float64(rw * rh * 3)
	for dy := -n.Search; dy <= n.Search; dy++ {
		for dx := -n.Search; dx <= n.Search; dx++ {
			x0, y0 := n.X+dx, n.Y+dy
			if x0 < 0 || y0 < 0 || x0+rw > sw || y0+rh > sh {
				continue
			}
			// Stop a position as soon as it cannot beat the best one or the tolerance.
			limit := tol * channels
			if best >= 0 && best*channels < limit {
				limit = best * channels
			}
			var sum float64
			for y := 0; y < rh && sum <= limit; y++ {
				rp := ref.Pix[y*ref.Stride : y*ref.Stride+rw*4]
				sp := scr.Pix[(y0+y)*scr.Stride+x0*4:]
				for i := 0; i < rw*4; i += 4 {
					sum += absDiff(rp[i], sp[i]) + absDiff(rp[i+1], sp[i+1]) + absDiff(rp[i+2], sp[i+2])
				}
			}
			if sum <= limit || best < 0 {
				if m := sum / channels; best < 0 || m < best {
					best = m
				}
			}
		}
	}
	return best >= 0 && best <= tol, best, nil
}

func absDiff(a, b uint8) float64 {
	if a > b {
		return float64(a - b)
	}
	return float64(b - a)
}
