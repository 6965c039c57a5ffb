// Package screen is the machine's display as evidence and as a console: captures of the
// framebuffer (PNG, stored as job artifacts, identical consecutive screens once), text read
// from it by OCR, reference picture regions matched openQA-style (needles), and keys typed on
// the machine's keyboard. It sits on hosts.Screen (QEMU: QMP screendump / send-key) and
// serves the stage machine (harness/engine/boot) through Watcher.
//
// OCR is Debian's tesseract (package tesseract-ocr, tesseract-ocr-eng), run as a command
// (`tesseract stdin stdout`), not through a Go binding: the bindings (gosseract) are cgo over
// libtesseract-dev and libleptonica-dev, which would make every build of the harness need a
// C++ toolchain and those headers, for a call that happens a few times per boot (only when
// the screen changed while a stage with screen markers is awaited) and costs about a second
// of OCR either way; a process per call also keeps a crash or hang of the engine out of the
// harness (it is killed with its context). The cost of starting the process is in the
// per-capture time the recognition benchmark reports.
package screen
