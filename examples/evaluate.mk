# examples/evaluate.mk — make synthetic data, refine it, evaluate it and look
# at it, in one command:
#
#   make -f examples/evaluate.mk                  # the bundled health table
#   make -f examples/evaluate.mk REAL=my.csv LABEL=outcome OUT=my-eval
#   make -f examples/evaluate.mk video            # frames of the search -> mp4
#
# REAL -> nogan-synth -> nogan-filter -> ecdf-ks before and after filtering
# (multivariate KS, per-column KS or TV) -> distances to the closest real
# record (DCR) -> accuracy on the real rows of a K-NN classifier trained on
# the synthetic rows (when LABEL names a column) -> SVG figures ->
# $(OUT)/report.md.  Every step is a file made from its inputs, so a second
# run with nothing changed does nothing, and changing a variable below
# re-runs only what depends on it (the values are kept in $(OUT)/params).
#
# Variables (make VAR=value):
#   REAL    the real table (CSV with a header; default datasets/eval-health.csv)
#   LABEL   a class column for the K-NN check (default: diabetic for the
#           bundled table, none otherwise)
#   OUT     the output directory (default eval-out)
#   ROWS    synthetic rows generated before filtering (default 10000)
#   SEED    seed of every random step (default 1)
#   SYNTH_OPTS   more nogan-synth options, e.g. --bins=5 or --draw=gaussian
#   FILTER_OPTS  nogan-filter options (default --select=distance --drop-copies:
#                many NoGAN rows from few real ones hold junk far from every
#                real row, which the distance rule removes; the ratio
#                selection sees no difference in the neighbour counts here)
#   K       neighbours of the classifier (default 5)
#   OPTS    options for every program that reads both tables, e.g.
#           --missing=impute or --categorical=code (default none)
#   PLOT_X, PLOT_Y  the two columns of the matches figure (default: the first
#           two numeric columns of REAL)
# File names must not contain blanks (make's lists are blank-separated).
#   BIN     where the programs are (default: ./bin when it has them, else the
#           source tree's bin/, else the PATH)

TOP := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST))))/..)
TOP := $(abspath $(TOP))
REAL ?= $(TOP)/datasets/eval-health.csv
ifeq ($(REAL),$(TOP)/datasets/eval-health.csv)
LABEL ?= diabetic
endif
LABEL ?=
OUT ?= eval-out
ROWS ?= 10000
SEED ?= 1
SYNTH_OPTS ?=
FILTER_OPTS ?= --select=distance --drop-copies
K ?= 5
OPTS ?=
BIN ?= $(firstword $(patsubst %/nogan-synth,%,$(wildcard $(CURDIR)/bin/nogan-synth $(TOP)/bin/nogan-synth)))
P := $(if $(BIN),$(BIN)/,)

# The first two numeric columns of REAL's first data row, for Figure 2.
NUMERIC_COLUMNS := $(shell awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) name[i] = $$i } \
    NR == 2 { for (i = 1; i <= NF; i++) if ($$i ~ /^-?[0-9.]+([eE][-+]?[0-9]+)?$$/) printf "%s ", name[i]; exit }' '$(REAL)' 2>/dev/null)
PLOT_X ?= $(word 1,$(NUMERIC_COLUMNS))
PLOT_Y ?= $(word 2,$(NUMERIC_COLUMNS))

# Programs as prerequisites when they are files, so a rebuilt program re-runs
# its steps.
prog = $(wildcard $(P)$(1))

# The variables that shape the results, rewritten only when they change.
PARAMS := REAL=$(REAL) LABEL=$(LABEL) ROWS=$(ROWS) SEED=$(SEED) SYNTH_OPTS=$(SYNTH_OPTS) \
    FILTER_OPTS=$(FILTER_OPTS) OPTS=$(OPTS) K=$(K) PLOT_X=$(PLOT_X) PLOT_Y=$(PLOT_Y)
$(shell mkdir -p '$(OUT)' && { printf '%s\n' '$(PARAMS)' | cmp -s - '$(OUT)/params' \
    || printf '%s\n' '$(PARAMS)' > '$(OUT)/params'; })

FIGURES := $(OUT)/convergence.svg $(OUT)/matches.svg $(OUT)/distances.svg \
    $(OUT)/ecdf-synth.svg $(OUT)/ecdf-kept.svg
KNN := $(if $(LABEL),$(OUT)/knn-real.csv $(OUT)/knn-synth.csv $(OUT)/knn-kept.csv,)

.PHONY: all video
.DELETE_ON_ERROR:

all: $(OUT)/report.md

# The first line of every step: a missing program stops the run, named.
need = @command -v $(P)$(1) >/dev/null 2>&1 || { echo "evaluate.mk: $(P)$(1) not found: \
    build pann (make) or set BIN=DIR" >&2; exit 1; }

# ---- make, refine --------------------------------------------------------

$(OUT)/synth.csv: $(REAL) $(OUT)/params $(call prog,nogan-synth)
	$(call need,nogan-synth)
	$(P)nogan-synth -q --rows=$(ROWS) --seed=$(SEED) $(SYNTH_OPTS) -o $(OUT)/synth.csv '$(REAL)'

# kept.csv, the filter's report (thresholds, DCR) and the dropped rows.
$(OUT)/kept.csv $(OUT)/filter-synth.csv $(OUT)/rejected.csv &: $(OUT)/synth.csv \
    $(call prog,nogan-filter)
	$(call need,nogan-filter)
	$(P)nogan-filter -q --seed=$(SEED) $(OPTS) $(FILTER_OPTS) --report=$(OUT)/filter-synth.csv \
	    --rejected=$(OUT)/rejected.csv -o $(OUT)/kept.csv '$(REAL)' $(OUT)/synth.csv

# The same report on the kept rows: their DCR after filtering.
$(OUT)/filter-kept.csv: $(OUT)/kept.csv
	$(call need,nogan-filter)
	$(P)nogan-filter -q --seed=$(SEED) $(OPTS) --report=$@ '$(REAL)' $(OUT)/kept.csv > /dev/null

# ---- evaluate ------------------------------------------------------------

$(OUT)/ks-%.csv $(OUT)/dump-%.csv $(OUT)/columns-%.csv: $(OUT)/%.csv $(call prog,ecdf-ks)
	$(call need,ecdf-ks)
	$(P)ecdf-ks -q --seed=$(SEED) $(OPTS) --dump=$(OUT)/dump-$*.csv --marginals=$(OUT)/columns-$*.csv \
	    -o $(OUT)/ks-$*.csv '$(REAL)' $<

# Exact NN distance of every synthetic row to the real rows, on the filter's
# scale (range) and metric (l1): the histogram's data.
$(OUT)/nn.csv: $(OUT)/synth.csv $(call prog,pann-match)
	$(call need,pann-match)
	$(P)pann-match -q $(OPTS) --exact --scale=range -o $@ $(OUT)/synth.csv '$(REAL)'

# The anytime search on 200 synthetic rows, with its history (Figures 1, 2).
$(OUT)/sample.csv: $(OUT)/synth.csv
	head -n 201 $(OUT)/synth.csv > $@
$(OUT)/sample-matches.csv $(OUT)/history.csv &: $(OUT)/sample.csv $(call prog,pann-match)
	$(call need,pann-match)
	$(P)pann-match -q $(OPTS) --scale=range --seed=$(SEED) --iterations=10000 \
	    --history=$(OUT)/history.csv -o $(OUT)/sample-matches.csv $(OUT)/sample.csv '$(REAL)'

# K-NN classification of the real rows: leave-one-out on REAL (the
# baseline), trained on the synthetic rows, trained on the kept rows.
$(OUT)/knn-real.csv: $(REAL) $(OUT)/params $(call prog,pann-knn)
	$(call need,pann-knn)
	$(P)pann-knn -q $(OPTS) --exact -k $(K) --scale=range --label=$(LABEL) -o $@ '$(REAL)'
$(OUT)/knn-synth.csv $(OUT)/knn-kept.csv: $(OUT)/knn-%.csv: $(OUT)/%.csv $(call prog,pann-knn)
	$(call need,pann-knn)
	$(P)pann-knn -q $(OPTS) --exact -k $(K) --scale=range --label=$(LABEL) -o $@ $< '$(REAL)'

# ---- look ----------------------------------------------------------------

$(OUT)/convergence.svg: $(OUT)/history.csv $(call prog,pann-plot)
	$(call need,pann-plot)
	$(P)pann-plot convergence -q -o $@ $<
$(OUT)/matches.svg: $(OUT)/sample-matches.csv $(call prog,pann-plot)
	$(call need,pann-plot)
	$(P)pann-plot matches -q --x='$(PLOT_X)' --y='$(PLOT_Y)' \
	    --title='200 synthetic rows (red) and their nearest real rows (blue)' \
	    -o $@ $(OUT)/sample.csv '$(REAL)' $<
$(OUT)/distances.svg: $(OUT)/nn.csv $(OUT)/filter-synth.csv $(call prog,pann-plot)
	$(call need,pann-plot)
	$(P)pann-plot histogram -q --column=distance \
	    --threshold=$$(awk -F, '$$1 == "max_dist" { print $$2 }' $(OUT)/filter-synth.csv) \
	    --title='Distance of each synthetic row to the closest real row' -o $@ $<
$(OUT)/ecdf-%.svg: $(OUT)/dump-%.csv $(call prog,pann-plot)
	$(call need,pann-plot)
	$(P)pann-plot ecdf -q -o $@ $<

# ---- report --------------------------------------------------------------

$(OUT)/report.md: $(OUT)/ks-synth.csv $(OUT)/ks-kept.csv $(OUT)/columns-synth.csv \
    $(OUT)/columns-kept.csv $(OUT)/filter-synth.csv $(OUT)/filter-kept.csv $(KNN) \
    $(FIGURES)
	sh -c "$$REPORT_SCRIPT" > $@.tmp && mv $@.tmp $@
	@echo "evaluate.mk: wrote $@"

# The report: one table a person reads in a minute, the columns, the figures.
# (Shell run by the rule above; $$ is a shell $.)
define REPORT_SCRIPT
set -e
cd '$(OUT)'
kv() { awk -F, -v k="$$2" '$$1 == k { print $$2; exit }' "$$1"; }
first() { awk -F, 'NR == 2 { print $$1 }' "$$1"; }
rows() { awk 'END { print NR - 1 }' "$$1"; }
acc() { awk -F, 'NR > 1 && $$3 != "" { n++; c += $$2 == $$3 } END { if (n) printf "%.3f", c / n; else printf "n/a" }' "$$1"; }
meancol() { awk -F, '$$1 == "(mean)" { printf "%.4f", $$4 }' "$$1"; }
g() { printf '%.4g' "$$1"; }
echo "# Synthetic data report"
echo
echo "Real data: \`$(REAL)\` ($$(rows '$(REAL)') rows).  Synthetic data:"
echo "\`$(strip nogan-synth --rows=$(ROWS) --seed=$(SEED) $(SYNTH_OPTS))\`, refined by"
echo "\`nogan-filter $(FILTER_OPTS)\`, which kept $$(rows kept.csv) of $$(rows synth.csv) rows."
echo
echo "| measure | synthetic | filtered |"
echo "|---|---:|---:|"
echo "| rows | $$(rows synth.csv) | $$(rows kept.csv) |"
echo "| multivariate ECDF KS distance (0 = same distribution) | $$(g $$(first ks-synth.csv)) | $$(g $$(first ks-kept.csv)) |"
echo "| mean per-column KS (numeric) or TV (categorical) | $$(meancol columns-synth.csv) | $$(meancol columns-kept.csv) |"
echo "| median distance to the closest real record (DCR) | $$(g $$(kv filter-synth.csv median_synth_nn)) | $$(g $$(kv filter-kept.csv median_synth_nn)) |"
echo "| DCR ratio to the real rows' own (about 1 is the aim; below 1: near copies) | $$(g $$(kv filter-synth.csv dcr_ratio)) | $$(g $$(kv filter-kept.csv dcr_ratio)) |"
if [ -n '$(LABEL)' ]; then
echo "| accuracy on the real rows of a $(K)-NN classifier of $(LABEL) trained on these rows (trained on the real rows, leave-one-out: $$(acc knn-real.csv)) | $$(acc knn-synth.csv) | $$(acc knn-kept.csv) |"
fi
echo
echo "The filter dropped $$(kv filter-synth.csv dropped_too_far) rows too far from every real row (distance above"
echo "$$(g $$(kv filter-synth.csv max_dist)): $$(kv filter-synth.csv max_rule)) and $$(kv filter-synth.csv dropped_near_copy) near copies"
echo "of real rows; the real rows' own median leave-one-out distance is $$(g $$(kv filter-synth.csv median_real_loo_nn))."
echo "Distances: L1 on columns scaled by their real range, categories 0/1."
echo
echo "## Per column"
echo
echo "| column | kind | statistic | synthetic | filtered |"
echo "|---|---|---|---:|---:|"
awk -F, 'FNR == 1 { next } NR == FNR { after[$$1] = $$4; next } $$1 != "(mean)" { printf "| %s | %s | %s | %.4f | %.4f |\n", $$1, $$2, $$3, $$4, after[$$1] }' columns-kept.csv columns-synth.csv
echo
echo "## Figures"
echo
echo "![Distances to the closest real row, with the filter threshold](distances.svg)"
echo
echo "![ECDF of the synthetic rows against the real ones, at every node](ecdf-synth.svg)"
echo "![The same after filtering](ecdf-kept.svg)"
echo
echo "![200 synthetic rows and their nearest real rows](matches.svg)"
echo "![Convergence of the PANN search for those 200 rows, with the fitted a + b t^c](convergence.svg)"
endef
export REPORT_SCRIPT

# ---- the article's video: Figure 2 as the search goes on -----------------

VIDEO_S ?= $(TOP)/datasets/gauss2d-S.csv
VIDEO_T ?= $(TOP)/datasets/gauss2d-T.csv
$(OUT)/frames/final.svg: $(VIDEO_S) $(VIDEO_T) $(call prog,pann-plot)
	rm -rf $(OUT)/frames && mkdir -p $(OUT)/frames
	$(call need,pann-plot)
	$(P)pann-plot matches -q --seed=$(SEED) --iterations=10000 --frames=$(OUT)/frames \
	    -o $@ $(VIDEO_S) $(VIDEO_T)

video: $(OUT)/search.mp4
$(OUT)/search.mp4: $(OUT)/frames/final.svg
	@missing=; for t in rsvg-convert ffmpeg; do command -v $$t >/dev/null 2>&1 || missing="$$missing $$t"; done; \
	if [ -n "$$missing" ]; then \
	    echo "evaluate.mk: the frames are in $(OUT)/frames; to make the video install:$$missing" >&2; \
	    echo "evaluate.mk: (Debian: apt-get install librsvg2-bin ffmpeg; ffmpeg cannot read SVG itself)" >&2; \
	    exit 1; fi
	for f in $(OUT)/frames/frame-*.svg; do rsvg-convert -w 720 -h 540 -b white -o "$${f%.svg}.png" "$$f"; done
	ffmpeg -loglevel error -y -framerate 8 -i $(OUT)/frames/frame-%05d.png \
	    -c:v libx264 -pix_fmt yuv420p $@
