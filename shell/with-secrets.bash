# with-secrets: bash completion, printed by `with-secrets completion bash` and `with-secrets shell-init bash`.
# Sourced into interactive shells. It defines functions named __with_secrets_* and completion specs,
# sets no shell option, and never evaluates anything with-secrets prints: candidates are only listed.

# Asks with-secrets for the candidates of words 1..COMP_CWORD and fills COMPREPLY; the first line of the
# answer may be a directive instead: `:files` (file names) or `:delegate N CMD` (the words from index N on
# are the command CMD with its own arguments, completed by CMD's own completion).
__with_secrets_complete() {
    local -a __with_secrets_reply=() __with_secrets_words=() __with_secrets_starts=()
    __with_secrets_rejoin
    mapfile -t __with_secrets_reply < <(command with-secrets completion --complete -- "${__with_secrets_words[@]:1}" 2>/dev/null)
    COMPREPLY=()
    case ${__with_secrets_reply[0]-} in
        :files) return 0 ;; # `complete -o default` falls back to file names, quoted by readline
        ':delegate '*)
            local __with_secrets_rest=${__with_secrets_reply[0]#:delegate }
            # with-secrets counts rejoined words; the program's own completion gets bash's words from there on.
            __with_secrets_delegate "${__with_secrets_starts[${__with_secrets_rest%% *} + 1]}" "${__with_secrets_rest#* }"
            return 0
            ;;
    esac
    # Quoted for the command line: a profile name with a quote or a `$(` must not become shell code.
    local __with_secrets_word __with_secrets_quoted
    for __with_secrets_word in "${__with_secrets_reply[@]}"; do
        printf -v __with_secrets_quoted '%q' "$__with_secrets_word"
        COMPREPLY+=("$__with_secrets_quoted")
    done
}

# Rejoins the words bash split at COMP_WORDBREAKS (`=`, `:`) where the line has no space between them, so
# `--profile=NAME` and `--config=~/c.yaml` reach with-secrets as one word: __with_secrets_words holds words
# 0..COMP_CWORD so joined, __with_secrets_starts[j] the index in COMP_WORDS where joined word j starts.
__with_secrets_rejoin() {
    local __with_secrets_line=${COMP_LINE:0:COMP_POINT} __with_secrets_rest __with_secrets_gap
    local -i __with_secrets_i __with_secrets_off=0
    for ((__with_secrets_i = 0; __with_secrets_i <= COMP_CWORD; __with_secrets_i++)); do
        __with_secrets_rest=${__with_secrets_line:__with_secrets_off}
        __with_secrets_gap=${__with_secrets_rest%%[![:space:]]*}
        if ((__with_secrets_i > 0 && ${#__with_secrets_gap} == 0)); then
            __with_secrets_words[${#__with_secrets_words[@]} - 1]+=${COMP_WORDS[__with_secrets_i]}
        else
            __with_secrets_words+=("${COMP_WORDS[__with_secrets_i]}")
            __with_secrets_starts+=("$__with_secrets_i")
        fi
        __with_secrets_off+=${#__with_secrets_gap}+${#COMP_WORDS[__with_secrets_i]}
    done
}

# Completes COMP_WORDS[$1..] as the command line of the program $2, through that program's own completion
# function (loaded on demand by bash-completion when it is installed); file names otherwise.
__with_secrets_delegate() {
    local __with_secrets_at=$1 __with_secrets_cmd=$2
    local -a COMP_WORDS=("$__with_secrets_cmd" "${COMP_WORDS[@]:__with_secrets_at+1}")
    local COMP_CWORD=$((COMP_CWORD - __with_secrets_at))
    local COMP_LINE="${COMP_WORDS[*]}"
    local COMP_POINT=${#COMP_LINE}
    COMPREPLY=()
    if ((COMP_CWORD == 0)); then
        mapfile -t COMPREPLY < <(compgen -c -- "${COMP_WORDS[0]}")
        return 0
    fi
    local __with_secrets_spec
    __with_secrets_spec=$(complete -p -- "$__with_secrets_cmd" 2>/dev/null)
    if [[ -z $__with_secrets_spec ]]; then
        if declare -F _comp_load >/dev/null; then
            _comp_load -- "$__with_secrets_cmd" >/dev/null 2>&1
        elif declare -F _completion_loader >/dev/null; then
            _completion_loader "$__with_secrets_cmd" >/dev/null 2>&1
        fi
        __with_secrets_spec=$(complete -p -- "$__with_secrets_cmd" 2>/dev/null)
    fi
    case $__with_secrets_spec in
        *' -F '*)
            local __with_secrets_func=${__with_secrets_spec##* -F }
            __with_secrets_func=${__with_secrets_func%% *}
            if declare -F -- "$__with_secrets_func" >/dev/null; then
                "$__with_secrets_func" "$__with_secrets_cmd" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
            fi
            ;;
    esac
    return 0
}

# Completes an alias whose name differs from its program's (profile `codex-work` running codex) as the
# words `with-secrets NAME …`, so with-secrets' answer names the program whose completion applies.
__with_secrets_complete_alias() {
    local -a COMP_WORDS=(with-secrets "${COMP_WORDS[@]}")
    local COMP_CWORD=$((COMP_CWORD + 1))
    local COMP_LINE="with-secrets $COMP_LINE"
    local COMP_POINT=$((COMP_POINT + 13))
    __with_secrets_complete "$@"
}

complete -o default -F __with_secrets_complete with-secrets
