// Package screen is the machine's display as evidence and as a console: captures of the
// framebuffer (PNG, stored as job artifacts, identical consecutive screens once), text read
// from it by OCR, reference picture regions matched openQA-style (needles), and keys typed on
// the machine's keyboard. It sits on hosts.Screen (QEMU: QMP screendump / send-key) and
// serves the stage machine (harness/engine/boot) through Watcher.
//
// OCR reads a screen first as a grid of character cells (cells.go): boot screens are text
// in one bitmap font on a fixed grid (VGA text mode, QEMU's messages, Redox's kernel
// graphical debug and fbcond), so each cell's ink bitmap is looked up in a font's glyph table
// (SeaBIOS's VGA font and Redox's Unifont, embedded; Linux's console font from Debian's
// console-data where installed). That reads a whole screen exactly in a few milliseconds.
// When no font explains at least MinExplained of a screen's ink cells (a picture, Orbital's
// anti-aliased text, a grid not at the corner) the screen goes to tesseract; Reading.Engine
// says which one read it.
//
// The fallback is Debian's tesseract (package tesseract-ocr, tesseract-ocr-eng), run as a command
// (`tesseract stdin stdout`), not through a Go binding: the bindings (gosseract) are cgo over
// libtesseract-dev and libleptonica-dev, which would make every build of the harness need a
// C++ toolchain and those headers, for a call that happens a few times per boot (only when
// the screen changed while a stage with screen markers is awaited) and costs about a second
// of OCR either way; a process per call also keeps a crash or hang of the engine out of the
// harness (it is killed with its context). The cost of starting the process is in the
// per-capture time the recognition benchmark reports.
package screen
