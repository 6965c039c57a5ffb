module github.com/redox-hwtest/redox-hwtest

go 1.26.0
