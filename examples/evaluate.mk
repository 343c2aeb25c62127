# examples/evaluate.mk — make synthetic data, refine it, evaluate it and look
# at it, in one command:
#
#   make -f examples/evaluate.mk                  # the bundled health table
#   make -f examples/evaluate.mk REAL=my.csv LABEL=outcome OUT=my-eval
#   make -f examples/evaluate.mk REAL=train.csv HOLDOUT=unseen.csv
#   make -f examples/evaluate.mk video            # frames of the search -> mp4
#
# REAL is split into TRAIN and HOLDOUT ($(OUT)/train.csv, $(OUT)/holdout.csv):
# the synthesizer and the filter see TRAIN only, and every figure is scored
# against HOLDOUT, real rows neither saw.  TRAIN -> nogan-synth ->
# nogan-filter -> ecdf-ks before and after filtering beside TRAIN against
# HOLDOUT (the floor two real samples give) -> K-NN accuracy on HOLDOUT
# trained on the synthetic rows (TSTR) beside trained on TRAIN (TRTR) ->
# pann-privacy (distances to TRAIN beside HOLDOUT's own, a membership
# attack, detection, dependences) -> SVG figures -> $(OUT)/report.md.
# Every step is a file made from its inputs, so a second run with nothing
# changed does nothing, and changing a variable below re-runs only what
# depends on it (the values are kept in $(OUT)/params).
#
# The split: data row i (1-based, one line per row) goes to HOLDOUT when
# ((i + 7919 * SEED) * 2654435761) mod 2^32 < HOLDOUT_SHARE * 2^32
# (Fibonacci hashing: deterministic, disjoint, any awk, about HOLDOUT_SHARE
# of the rows, spread over the whole file).  A table with quoted line
# breaks needs HOLDOUT=FILE.
#
# Variables (make VAR=value):
#   REAL    the real table (CSV with a header; default datasets/eval-health.csv)
#   HOLDOUT real rows kept from the synthesizer, given as a file: REAL is
#           then TRAIN whole (default: none, REAL is split)
#   HOLDOUT_SHARE  share of REAL's rows held out by the split (default 0.3)
#   LABEL   a class column for the K-NN check (default: diabetic for the
#           bundled table, none otherwise)
#   OUT     the output directory (default eval-out)
#   ROWS    synthetic rows generated before filtering (default 10000)
#   SEED    seed of every random step and of the split (default 1)
#   SYNTH_OPTS   more nogan-synth options, e.g. --bins=5 or --draw=gaussian
#   FILTER_OPTS  nogan-filter options (default --select=distance --drop-copies:
#                many NoGAN rows from few real ones hold junk far from every
#                real row, which the distance rule removes; the ratio
#                selection sees no difference in the neighbour counts here);
#                the holdout always goes to the filter as --holdout
#   K       neighbours of the classifiers (default 5)
#   OPTS    options for every program that reads both tables, e.g.
#           --missing=impute or --categorical=code (default none)
#   PLOT_X, PLOT_Y  the two columns of the matches figure (default: the first
#           two numeric columns of REAL)
# File names must not contain blanks (make's lists are blank-separated).
#   BIN     where the programs are (default: ./bin when it has them, else the
#           source tree's bin/, else the PATH)
#
# Only the rules below run: make's built-in rules and variables are off, so
# a program older than its sources is never compiled here; it stops the run
# with "rebuild pann (make)", as a missing one does.

MAKEFLAGS += -rR
.DEFAULT_GOAL := all
.SUFFIXES:

TOP := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST))))/..)
TOP := $(abspath $(TOP))
REAL ?= $(TOP)/datasets/eval-health.csv
ifeq ($(REAL),$(TOP)/datasets/eval-health.csv)
LABEL ?= diabetic
endif
LABEL ?=
HOLDOUT ?=
HOLDOUT_SHARE ?= 0.3
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

# Programs of a build tree (BIN found in ./bin or the source tree's bin/)
# are checked against their sources: an older one stops the run, named.
PROGRAMS := nogan-synth nogan-filter ecdf-ks pann-match pann-knn pann-plot pann-privacy
SOURCES := $(wildcard $(TOP)/bin/cli.c $(TOP)/bin/cli.h $(TOP)/lib/*.c $(TOP)/lib/*.h)
ifneq ($(filter $(BIN),$(CURDIR)/bin $(TOP)/bin),)
define stale_rule
$(P)$(1): $(wildcard $(TOP)/bin/$(1).c) $(SOURCES)
	@echo "evaluate.mk: $$@ is older than $$(firstword $$?): rebuild pann (make)" >&2; exit 1
endef
$(foreach p,$(PROGRAMS),$(if $(wildcard $(P)$(p)),$(eval $(call stale_rule,$(p)))))
endif

# nogan-filter calibrates its near-copy threshold on HOLDOUT.
FILTER_HOLDOUT := --holdout=$(OUT)/holdout.csv

# The variables that shape the results, rewritten only when they change.
PARAMS := REAL=$(REAL) HOLDOUT=$(HOLDOUT) HOLDOUT_SHARE=$(HOLDOUT_SHARE) LABEL=$(LABEL) ROWS=$(ROWS) SEED=$(SEED) SYNTH_OPTS=$(SYNTH_OPTS) \
    FILTER_OPTS=$(FILTER_OPTS) OPTS=$(OPTS) K=$(K) PLOT_X=$(PLOT_X) PLOT_Y=$(PLOT_Y)
$(shell mkdir -p '$(OUT)' && { printf '%s\n' '$(PARAMS)' | cmp -s - '$(OUT)/params' \
    || printf '%s\n' '$(PARAMS)' > '$(OUT)/params'; })

FIGURES := $(OUT)/convergence.svg $(OUT)/matches.svg $(OUT)/distances.svg \
    $(OUT)/ecdf-synth.svg $(OUT)/ecdf-kept.svg
KNN := $(if $(LABEL),$(OUT)/knn-train.csv $(OUT)/knn-synth.csv $(OUT)/knn-kept.csv,)
PRIVACY := $(OUT)/privacy-synth.csv $(OUT)/privacy-kept.csv

.PHONY: all video
.DELETE_ON_ERROR:

all: $(OUT)/report.md

# The first line of every step: a missing program stops the run, named.
need = @command -v $(P)$(1) >/dev/null 2>&1 || { echo "evaluate.mk: $(P)$(1) not found: \
    rebuild pann (make) or set BIN=DIR" >&2; exit 1; }

# ---- split, make, refine -------------------------------------------------

# TRAIN and HOLDOUT: the given HOLDOUT beside the whole of REAL, or the
# split of REAL described at the top.
$(OUT)/train.csv $(OUT)/holdout.csv &: $(REAL) $(HOLDOUT) $(OUT)/params
ifneq ($(HOLDOUT),)
	cp '$(REAL)' $(OUT)/train.csv.tmp && cp '$(HOLDOUT)' $(OUT)/holdout.csv.tmp
else
	awk -v seed=$(SEED) -v share=$(HOLDOUT_SHARE) -v train=$(OUT)/train.csv.tmp \
	    -v holdout=$(OUT)/holdout.csv.tmp 'NR == 1 { print > train; print > holdout; next } \
	    { h = ((NR - 1 + 7919 * seed) * 2654435761) % 4294967296; \
	      print > (h < share * 4294967296 ? holdout : train) }' '$(REAL)'
endif
	mv $(OUT)/train.csv.tmp $(OUT)/train.csv && mv $(OUT)/holdout.csv.tmp $(OUT)/holdout.csv

$(OUT)/synth.csv: $(OUT)/train.csv $(call prog,nogan-synth)
	$(call need,nogan-synth)
	$(P)nogan-synth -q --rows=$(ROWS) --seed=$(SEED) $(SYNTH_OPTS) -o $(OUT)/synth.csv $(OUT)/train.csv

# kept.csv, the filter's report (thresholds, DCR) and the dropped rows.
$(OUT)/kept.csv $(OUT)/filter-synth.csv $(OUT)/rejected.csv &: $(OUT)/synth.csv \
    $(OUT)/holdout.csv $(call prog,nogan-filter)
	$(call need,nogan-filter)
	$(P)nogan-filter -q --seed=$(SEED) $(OPTS) $(FILTER_OPTS) $(FILTER_HOLDOUT) \
	    --report=$(OUT)/filter-synth.csv --rejected=$(OUT)/rejected.csv -o $(OUT)/kept.csv \
	    $(OUT)/train.csv $(OUT)/synth.csv

# The same report on the kept rows: their DCR after filtering.
$(OUT)/filter-kept.csv: $(OUT)/kept.csv
	$(call need,nogan-filter)
	$(P)nogan-filter -q --seed=$(SEED) $(OPTS) --report=$@ $(OUT)/train.csv $(OUT)/kept.csv > /dev/null

# ---- evaluate ------------------------------------------------------------

# KS against HOLDOUT of the synthetic rows, the kept rows and TRAIN (the
# floor: two real samples of the same distribution).
$(OUT)/ks-%.csv $(OUT)/dump-%.csv $(OUT)/columns-%.csv: $(OUT)/%.csv $(OUT)/holdout.csv \
    $(call prog,ecdf-ks)
	$(call need,ecdf-ks)
	$(P)ecdf-ks -q --seed=$(SEED) $(OPTS) --dump=$(OUT)/dump-$*.csv --marginals=$(OUT)/columns-$*.csv \
	    -o $(OUT)/ks-$*.csv $(OUT)/holdout.csv $<

# Exact NN distance of every synthetic row to the training rows, on the
# filter's scale (range) and metric (l1): the histogram's data.
$(OUT)/nn.csv: $(OUT)/synth.csv $(call prog,pann-match)
	$(call need,pann-match)
	$(P)pann-match -q $(OPTS) --exact --scale=range -o $@ $(OUT)/synth.csv $(OUT)/train.csv

# The anytime search on 200 synthetic rows, with its history (Figures 1, 2).
$(OUT)/sample.csv: $(OUT)/synth.csv
	head -n 201 $(OUT)/synth.csv > $@
$(OUT)/sample-matches.csv $(OUT)/history.csv &: $(OUT)/sample.csv $(call prog,pann-match)
	$(call need,pann-match)
	$(P)pann-match -q $(OPTS) --scale=range --seed=$(SEED) --iterations=10000 \
	    --history=$(OUT)/history.csv -o $(OUT)/sample-matches.csv $(OUT)/sample.csv $(OUT)/train.csv

# K-NN classification of the HOLDOUT rows trained on TRAIN (TRTR, the
# baseline), on the synthetic rows and on the kept rows (TSTR).
$(OUT)/knn-train.csv $(OUT)/knn-synth.csv $(OUT)/knn-kept.csv: $(OUT)/knn-%.csv: $(OUT)/%.csv \
    $(OUT)/holdout.csv $(call prog,pann-knn)
	$(call need,pann-knn)
	$(P)pann-knn -q $(OPTS) --exact -k $(K) --scale=range --label=$(LABEL) -o $@ $< \
	    $(OUT)/holdout.csv

# Privacy (and detection, dependences) of the synthetic and the kept rows:
# distances to TRAIN beside HOLDOUT's own; the verdicts go beside.
$(OUT)/privacy-synth.csv $(OUT)/privacy-kept.csv: $(OUT)/privacy-%.csv: $(OUT)/%.csv \
    $(OUT)/train.csv $(OUT)/holdout.csv $(call prog,pann-privacy)
	$(call need,pann-privacy)
	$(P)pann-privacy --seed=$(SEED) $(OPTS) -k $(K) -o $@ $(OUT)/train.csv $< \
	    $(OUT)/holdout.csv 2> $(OUT)/privacy-$*.txt || { cat $(OUT)/privacy-$*.txt >&2; exit 1; }

# ---- look ----------------------------------------------------------------

$(OUT)/convergence.svg: $(OUT)/history.csv $(call prog,pann-plot)
	$(call need,pann-plot)
	$(P)pann-plot convergence -q -o $@ $<
$(OUT)/matches.svg: $(OUT)/sample-matches.csv $(call prog,pann-plot)
	$(call need,pann-plot)
	$(P)pann-plot matches -q --x='$(PLOT_X)' --y='$(PLOT_Y)' \
	    --title='200 synthetic rows (red) and their nearest training rows (blue)' \
	    -o $@ $(OUT)/sample.csv $(OUT)/train.csv $<
$(OUT)/distances.svg: $(OUT)/nn.csv $(OUT)/filter-synth.csv $(call prog,pann-plot)
	$(call need,pann-plot)
	t=$$(awk -F, '$$1 == "max_dist" && $$2 != "" { print "--threshold=" $$2 }' $(OUT)/filter-synth.csv); \
	$(P)pann-plot histogram -q --column=distance $$t \
	    --title='Distance of each synthetic row to the closest training row' -o $@ $<
$(OUT)/ecdf-%.svg: $(OUT)/dump-%.csv $(call prog,pann-plot)
	$(call need,pann-plot)
	$(P)pann-plot ecdf -q -o $@ $<

# ---- report --------------------------------------------------------------

$(OUT)/report.md: $(OUT)/ks-synth.csv $(OUT)/ks-kept.csv $(OUT)/ks-train.csv \
    $(OUT)/columns-synth.csv $(OUT)/columns-kept.csv $(OUT)/columns-train.csv \
    $(OUT)/filter-synth.csv $(OUT)/filter-kept.csv $(KNN) $(PRIVACY) $(FIGURES)
	sh -c "$$REPORT_SCRIPT" > $@.tmp && mv $@.tmp $@
	@echo "evaluate.mk: wrote $@"

# The report: what was scored against what, then one table per question
# (fidelity, utility, privacy), each with one sentence saying what is good
# and what is a warning; the columns; the figures.
# (Shell run by the rule above; $$ is a shell $.)
define REPORT_SCRIPT
set -e
cd '$(OUT)'
kv() { awk -F, -v k="$$2" '$$1 == k { print $$2; exit }' "$$1"; }
ideal() { awk -F, -v k="$$2" '$$1 == k { print $$3; exit }' "$$1"; }
first() { awk -F, 'NR == 2 { print $$1 }' "$$1"; }
rows() { awk 'END { print NR - 1 }' "$$1"; }
acc() { awk -F, 'NR > 1 && $$3 != "" { n++; c += $$2 == $$3 } END { if (n) printf "%.3f", c / n; else printf "n/a" }' "$$1"; }
meancol() { awk -F, '$$1 == "(mean)" { printf "%.4f", $$4 }' "$$1"; }
g() { if [ -n "$$1" ]; then awk -v v="$$1" 'BEGIN { printf "%.4g", v }'; else printf 'n/a'; fi; }
gt() { awk -v a="$$1" -v b="$$2" 'BEGIN { exit !(a + 0 > b + 0) }'; }
verdict() { if gt "$$1" "$$2"; then echo "Warning: $$3"; else echo "Good: $$4"; fi; }
pv() { echo "| $$2 | $$(g $$(kv privacy-synth.csv $$1)) | $$(g $$(kv privacy-kept.csv $$1)) | $$3 |"; }
warnings() { grep -c ': warning: ' "$$1" || true; }
echo "# Synthetic data report"
echo
echo "Real data: \`$(REAL)\`$(if $(HOLDOUT), and held-out rows \`$(HOLDOUT)\`,), as $$(rows train.csv) training rows"
echo "(TRAIN) and $$(rows holdout.csv) held-out rows (HOLDOUT)$(if $(HOLDOUT),, split by row with seed $(SEED) and share $(HOLDOUT_SHARE))."
echo "Synthetic data: \`$(strip nogan-synth --rows=$(ROWS) --seed=$(SEED) $(SYNTH_OPTS))\` on TRAIN only,"
echo "refined by \`$(strip nogan-filter $(FILTER_OPTS) --holdout)\`, which kept $$(rows kept.csv) of $$(rows synth.csv) rows."
echo "Every figure below is scored against HOLDOUT, rows neither step saw."
echo
echo "## Fidelity"
echo
echo "| measure | synthetic | filtered | TRAIN (floor) |"
echo "|---|---:|---:|---:|"
echo "| multivariate ECDF KS distance to HOLDOUT (0 = same distribution) | $$(g $$(first ks-synth.csv)) | $$(g $$(first ks-kept.csv)) | $$(g $$(first ks-train.csv)) |"
echo "| mean per-column KS (numeric) or TV (categorical) | $$(meancol columns-synth.csv) | $$(meancol columns-kept.csv) | $$(meancol columns-train.csv) |"
echo "| detection: accuracy of a $(K)-NN classifier telling them from HOLDOUT (ideal 0.5) | $$(g $$(kv privacy-synth.csv detection)) | $$(g $$(kv privacy-kept.csv detection)) | |"
echo "| pairwise dependence difference to HOLDOUT (Pearson, Cramer's V) | $$(g $$(kv privacy-synth.csv dependence_diff)) | $$(g $$(kv privacy-kept.csv dependence_diff)) | $$(g $$(awk -F, '$$1 == "dependence_diff" { print $$4 }' privacy-kept.csv)) |"
echo
ks_kept=$$(first ks-kept.csv); ks_floor=$$(first ks-train.csv)
verdict "$$ks_kept" "$$(awk -v f="$$ks_floor" 'BEGIN { print 2 * f + 0.01 }')" \
    "the filtered rows' KS $$(g $$ks_kept) is more than twice the floor $$(g $$ks_floor) that TRAIN itself reaches against HOLDOUT: their distribution differs from the real one beyond sampling." \
    "the filtered rows' KS $$(g $$ks_kept) is within twice the floor $$(g $$ks_floor) that TRAIN itself reaches against HOLDOUT."
if [ -n '$(LABEL)' ]; then
echo
echo "## Utility"
echo
echo "| accuracy on HOLDOUT of a $(K)-NN classifier of $(LABEL) trained on | synthetic (TSTR) | filtered (TSTR) | TRAIN (TRTR) |"
echo "|---|---:|---:|---:|"
echo "| accuracy | $$(acc knn-synth.csv) | $$(acc knn-kept.csv) | $$(acc knn-train.csv) |"
echo
tstr=$$(acc knn-kept.csv); trtr=$$(acc knn-train.csv)
verdict "$$trtr" "$$(awk -v a="$$tstr" 'BEGIN { print a + 0.03 }')" \
    "trained on the filtered rows, the classifier scores $$tstr on HOLDOUT, more than 0.03 below the $$trtr it scores trained on TRAIN." \
    "trained on the filtered rows, the classifier scores $$tstr on HOLDOUT, within 0.03 of (or above) the $$trtr it scores trained on TRAIN."
fi
echo
echo "## Privacy"
echo
echo "| measure (pann-privacy) | synthetic | filtered | HOLDOUT's own, or the ideal |"
echo "|---|---:|---:|---:|"
pv dcr_share "share of rows nearer to TRAIN than to HOLDOUT (dcr_share)" "$$(g $$(ideal privacy-kept.csv dcr_share)) (ideal)"
pv exact_match_share "share of rows copying a TRAIN row (exact_match_share)" "$$(g $$(kv privacy-kept.csv holdout_exact_match_share))"
pv nndr_median "median nearest/second-nearest distance ratio (nndr_median)" "$$(g $$(kv privacy-kept.csv holdout_nndr_median))"
pv mia_auc "membership attack AUC (mia_auc)" "0.5 (ideal)"
pv dcr_q05 "5 % quantile of the distance to TRAIN (dcr_q05)" "$$(g $$(kv privacy-kept.csv holdout_dcr_q05))"
pv dcr_q50 "median distance to TRAIN (dcr_q50)" "$$(g $$(kv privacy-kept.csv holdout_dcr_q50))"
echo
nwarn=$$(grep ': warning: ' privacy-kept.txt | grep -cE 'pann-privacy: (dcr_share|exact_match_share|nndr_median|mia_auc|dcr_q05) ' || true)
if [ "$$nwarn" -gt 0 ]; then
echo "Warning: $$nwarn of the 5 privacy checks of the filtered rows warn (pann-privacy's verdicts below): they sit nearer to TRAIN than unseen real rows do."
else
echo "Good: none of the 5 privacy checks of the filtered rows warns: they sit no nearer to TRAIN than unseen real rows do."
fi
echo
echo "pann-privacy's verdicts on the filtered rows:"
echo
sed -n 's/^pann-privacy: \(.*: \)\(good\|warning\): /- \1**\2**: /p' privacy-kept.txt
echo
echo "## Filter"
echo
if [ "$$(kv filter-synth.csv select)" = ratio ]; then
echo "The filter dropped $$(kv filter-synth.csv dropped_excess) rows where synthetic rows outnumber training rows among the"
echo "$$(kv filter-synth.csv neighbours) nearest rows more than chance explains (density-ratio selection) and $$(kv filter-synth.csv dropped_near_copy) near copies"
else
echo "The filter dropped $$(kv filter-synth.csv dropped_too_far) rows too far from every training row (distance above"
echo "$$(g $$(kv filter-synth.csv max_dist)): $$(kv filter-synth.csv max_rule)) and $$(kv filter-synth.csv dropped_near_copy) near copies"
fi
echo "of training rows (nearer than $$(g $$(kv filter-synth.csv min_dist))); the training rows' own median leave-one-out distance is $$(g $$(kv filter-synth.csv median_real_loo_nn))."
echo "Its median distance to the closest training record (DCR) is $$(g $$(kv filter-synth.csv median_synth_nn)) before and $$(g $$(kv filter-kept.csv median_synth_nn)) after filtering"
echo "(ratio to the training rows' own: $$(g $$(kv filter-synth.csv dcr_ratio)), $$(g $$(kv filter-kept.csv dcr_ratio)); in-sample figures, the Privacy table scores against HOLDOUT)."
echo "Distances: L1 on columns scaled by TRAIN's range, categories 0/1."
echo
echo "## Per column"
echo
echo "| column | kind | statistic against HOLDOUT | synthetic | filtered | TRAIN (floor) |"
echo "|---|---|---|---:|---:|---:|"
awk -F, 'FNR == 1 { f++; next } f == 1 { after[$$1] = $$4; next } f == 2 { floor[$$1] = $$4; next } $$1 != "(mean)" { printf "| %s | %s | %s | %.4f | %.4f | %.4f |\n", $$1, $$2, $$3, $$4, after[$$1], floor[$$1] }' columns-kept.csv columns-train.csv columns-synth.csv
echo
echo "## Figures"
echo
echo "![Distances to the closest training row, with the filter threshold](distances.svg)"
echo
echo "![ECDF of the synthetic rows against HOLDOUT, at every node](ecdf-synth.svg)"
echo "![The same after filtering](ecdf-kept.svg)"
echo
echo "![200 synthetic rows and their nearest training rows](matches.svg)"
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
