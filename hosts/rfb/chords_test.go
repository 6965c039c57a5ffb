package rfb_test

import "github.com/redox-hwtest/redox-hwtest/harness/engine/screen"

var screenChords = screen.TextToChords
