package screen

import "image"

// NearlySame reports whether two screens differ at most inside one character-sized box
// (16x16 pixels): a blinking text cursor makes otherwise identical captures differ, and
// such a pair is one screen for storage and for OCR. A whole word or line that changed is
// always a new screen.
func NearlySame(a, b image.Image) bool {
	if a == nil || b == nil || a.Bounds().Size() != b.Bounds().Size() {
		return false
	}
	ra, rb := toRGBA(a), toRGBA(b)
	w, h := ra.Bounds().Dx(), ra.Bounds().Dy()
	minX, minY, maxX, maxY := w, h, -1, -1
	for y := 0; y < h; y++ {
		pa := ra.Pix[y*ra.Stride : y*ra.Stride+w*4]
		pb := rb.Pix[y*rb.Stride : y*rb.Stride+w*4]
		for i := 0; i < w*4; i += 4 {
			if pa[i] != pb[i] || pa[i+1] != pb[i+1] || pa[i+2] != pb[i+2] {
				x := i / 4
				minX, maxX = min(minX, x), max(maxX, x)
				minY, maxY = min(minY, y), max(maxY, y)
				if maxX-minX >= 16 || maxY-minY >= 16 {
					return false
				}
			}
		}
	}
	return true
}
