package rfb_test

import "github.com/redox-hwtest/redox-hwtest/harness/screen"

var screenChords = screen.TextToChords
