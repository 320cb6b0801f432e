#!/usr/bin/env bash
# Builds the bundled sentiment model and its evaluation table from the trained checkpoints.
# Hand-run after the training scripts (see scripts/sentiment/README.md); outputs are committed:
#   data/sentiment/vocab-N.txt             pruned vocabulary the student is trained on (step 1;
#                                          N = 4300 unless given: `vocab 8000`)
#   models/sentiment-student/              the student's f32 Hugging Face checkpoint (copied)
#   models/sentiment.pfm                   the bundled default model ($BUNDLE_FLAGS, max sequence 64)
#   scripts/sentiment/results/eval.json    accuracy of teacher and student at f32/f16/int8, int8
#                                          with int4 token embeddings and int4 on the test split
#                                          of each of the four domains
# Usage: bash scripts/sentiment/build_model.sh vocab [SIZE [lexicon]]|bundle|eval
set -euo pipefail
cd "$(dirname "$0")/../.."
# The tool compiles the bundled model in; on a first build there is none yet.
mkdir -p models
[[ -f models/sentiment.pfm ]] || : >models/sentiment.pfm
cargo build --release -q -p picoformer-tool
bin=target/release/picoformer
cache=.cache/sentiment
mkdir -p "$cache"
domains="rt amazon tweets nyt"
# the shipped student's checkpoint (distill_student.py --out-dir) and how it is bundled: int4
# layers (groups of 32, an f16 scale and offset each) and token embeddings (groups of 64), with
# VADER's lexicon for its gate, 1.5 MB budget
student=$cache/student-G16s3
BUNDLE_FLAGS="--dtype int4 --embeddings int4-g64"
# split_file DOMAIN SPLIT: the TSV of one split of one domain (movie reviews at the top level)
split_file() {
    if [[ $1 == rt ]]; then echo "data/sentiment/$2.tsv"; else echo "data/sentiment/$1/$2.tsv"; fi
}

case "${1:-}" in
vocab)
    # The four domains' training splits, pruned to SIZE tokens (corpus frequency), Latin
    # characters kept.
    # `vocab SIZE lexicon`: VADER's words that are one token of the teacher's vocabulary are kept
    # too, in place of the least frequent corpus tokens (data/sentiment/vocab-SIZE-lexicon.txt).
    size=${2:-4300}
    for d in $domains; do cut -f2 "$(split_file "$d" train)"; done >"$cache/train_corpus.txt"
    keep=() out=data/sentiment/vocab-$size.txt
    if [[ ${3:-} == lexicon ]]; then
        python3 -c 'import sys; sys.path.insert(0, "scripts/sentiment"); import domains
print("\n".join(sorted(domains.vader_analyzer().lexicon)))' >"$cache/vader-words.txt"
        keep=(--keep-words "$cache/vader-words.txt") out=data/sentiment/vocab-$size-lexicon.txt
    fi
    "$bin" quantize "$(bash scripts/fetch-models.sh)" --dtype f32 -o "$cache/minilm-pruned.pfm" \
        --prune-vocab "$cache/train_corpus.txt" --vocab-size "$size" --keep-chars latin "${keep[@]}" \
        --vocab-out "$out" | grep -A9 "vocabulary pruned"
    ;;
bundle)
    rm -rf models/sentiment-student
    mkdir -p models/sentiment-student
    for f in config.json model.safetensors vocab.txt tokenizer.json tokenizer_config.json lexicon.tsv; do
        cp "$student/$f" models/sentiment-student/
    done
    # shellcheck disable=SC2086 # the flags are words
    "$bin" quantize models/sentiment-student $BUNDLE_FLAGS --max-seq 64 -o models/sentiment.pfm | tail -n 6
    ;;
eval)
    # weight variants: name and the quantize flags that make it (int8-e4: int8 layers, int4 token
    # embeddings; int4: int4 layers and token embeddings)
    variants=("f32:--dtype f32" "f16:--dtype f16" "int8:--dtype int8" "int8-e4:--dtype int8 --embeddings int4-g64"
        "int4:--dtype int4 --embeddings int4-g64")
    out=scripts/sentiment/results/eval.json
    tmp=$(mktemp)
    for model in teacher student; do
        dir=$cache/teacher
        [[ $model == student ]] && dir=models/sentiment-student
        for v in "${variants[@]}"; do
            # shellcheck disable=SC2086 # the flags are words
            "$bin" quantize "$dir" ${v#*:} --max-seq 64 -o "$cache/$model-${v%%:*}.pfm" >/dev/null
        done
        for v in "${variants[@]}"; do
            d=${v%%:*}
            ref=()
            [[ $d != f32 ]] && ref=(--reference "$cache/$model-f32.pfm")
            for domain in $domains; do
                printf '{"model":"%s","dtype":"%s","domain":"%s","blob_bytes":%d,"eval":' "$model" "$d" \
                    "$domain" "$(stat -c %s "$cache/$model-$d.pfm")" >>"$tmp"
                "$bin" eval -m "$cache/$model-$d.pfm" --tsv "$(split_file "$domain" test)" --json "${ref[@]}" \
                    | tr -d '\n' >>"$tmp"
                echo "}" >>"$tmp"
            done
        done
    done
    python3 -c 'import json,sys; rows=[json.loads(l) for l in open(sys.argv[1])]; json.dump(rows, open(sys.argv[2],"w"), indent=1)' "$tmp" "$out"
    rm -f "$tmp"
    python3 scripts/sentiment/eval_table.py "$out"
    ;;
*)
    echo "usage: $0 vocab|bundle|eval" >&2
    exit 2
    ;;
esac
