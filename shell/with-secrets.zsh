# with-secrets: zsh completion, printed by `with-secrets completion zsh` and `with-secrets shell-init zsh`.
# Sourced into interactive shells. It defines functions named __with_secrets_* and, when compinit has run,
# the completion of with-secrets; it sets no shell option outside its own functions and never evaluates
# anything with-secrets prints: candidates are only listed.

# Asks with-secrets for the candidates of the words after `with-secrets`; the first line of the answer may
# be a directive instead: `:files` (file names) or `:delegate N CMD` (the words from index N on are the
# command CMD with its own arguments, completed by CMD's own completion through _normal).
__with_secrets_complete() {
    local -a __with_secrets_reply
    __with_secrets_reply=("${(@f)$(command with-secrets completion --complete -- "${(@)words[2,CURRENT]}" 2>/dev/null)}")
    case ${__with_secrets_reply[1]-} in
        (:files)
            _files
            ;;
        (':delegate '*)
            local __with_secrets_rest=${__with_secrets_reply[1]#:delegate }
            local -i __with_secrets_at=${__with_secrets_rest%% *}
            # As _precommand does: drop the words before the command, so _normal completes it as its own.
            words=("${__with_secrets_rest#* }" "${(@)words[__with_secrets_at + 3, -1]}")
            (( CURRENT -= __with_secrets_at + 1 ))
            _normal
            ;;
        (*)
            (( ${#__with_secrets_reply} )) && [[ -n ${__with_secrets_reply[1]} ]] && compadd -- "${(@)__with_secrets_reply}"
            ;;
    esac
}

if (( ${+functions[compdef]} )); then
    compdef __with_secrets_complete with-secrets
fi
