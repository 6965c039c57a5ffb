package replay

import (
	"bytes"
	"time"

	"github.com/redox-hwtest/redox-hwtest/transcript"
)

// chunk is a run of transcript bytes written at one moment.
type chunk struct {
	start, end int           // byte range in the body
	at         time.Duration // after the replay starts, speed applied
}

// timedChunks turns recorded reads into a schedule for a body of n bytes. Offsets count
// from the first byte after the transcript's comment header (a transcript written by the
// harness has no header, so they are its file offsets). The first entry is time zero (the
// console opening); several entries at one offset keep the last (the opening, then the
// first read).
func timedChunks(es []transcript.Read, n int, speed float64) []chunk {
	t0 := es[0].NS
	var cs []chunk
	for i, e := range es {
		if i+1 < len(es) && es[i+1].Off == e.Off {
			continue
		}
		start := int(min(e.Off, int64(n)))
		end := n
		if i+1 < len(es) {
			end = int(min(es[i+1].Off, int64(n)))
		}
		if end <= start {
			continue
		}
		cs = append(cs, chunk{start: start, end: end, at: scale(time.Duration(e.NS-t0), speed)})
	}
	return cs
}

// lineChunks plays one line per delay.
func lineChunks(body []byte, delay time.Duration, speed float64) []chunk {
	var cs []chunk
	for off, k := 0, 0; off < len(body); k++ {
		end := bytes.IndexByte(body[off:], '\n')
		if end < 0 {
			end = len(body)
		} else {
			end += off + 1
		}
		cs = append(cs, chunk{start: off, end: end, at: scale(time.Duration(k)*delay, speed)})
		off = end
	}
	return cs
}

// baudChunks plays one line per chunk at the moment a UART at baud (8N1: 10 bits a byte)
// would have delivered its last byte.
func baudChunks(body []byte, baud int, speed float64) []chunk {
	perByte := float64(time.Second) * 10 / float64(baud)
	cs := lineChunks(body, 0, speed)
	for i := range cs {
		cs[i].at = scale(time.Duration(float64(cs[i].end)*perByte), speed)
	}
	return cs
}

func scale(d time.Duration, speed float64) time.Duration {
	return time.Duration(float64(d) / speed)
}

// lineEnd is the offset just after line n of body (1-based; 0 is the start), or -1 when
// the body has fewer lines.
func lineEnd(body []byte, n int) int {
	off := 0
	for i := 0; i < n; i++ {
		j := bytes.IndexByte(body[off:], '\n')
		if j < 0 {
			if off < len(body) && i == n-1 {
				return len(body) // the last line, without a newline
			}
			return -1
		}
		off += j + 1
	}
	return off
}

// cut drops every byte at or after offset from a schedule.
func cut(cs []chunk, offset int) []chunk {
	var out []chunk
	for _, c := range cs {
		if c.start >= offset {
			break
		}
		if c.end > offset {
			c.end = offset
		}
		out = append(out, c)
	}
	return out
}
