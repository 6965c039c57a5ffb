module github.com/redox-hwtest/redox-hwtest

go 1.26.0

require github.com/jstemmer/go-junit-report/v2 v2.1.0
