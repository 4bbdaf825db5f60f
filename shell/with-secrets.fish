# with-secrets: fish completion, printed by `with-secrets completion fish` and `with-secrets shell-init fish`.
# Sourced into interactive shells. It defines functions named __with_secrets_* and the completion of
# with-secrets, and never evaluates anything with-secrets prints: candidates are only listed.

# Prints the candidates for the words after `with-secrets`, asked of with-secrets itself; its first line
# may be a directive instead: `:files` (file names) or `:delegate N CMD` (the words from index N on are the
# command CMD with its own arguments, completed by CMD's own completion).
function __with_secrets_complete --description 'Completion candidates for with-secrets'
    set -l current (commandline -ct)
    set -l words (commandline -opc)
    set -e words[1]
    set -l reply (command with-secrets completion --complete -- $words "$current" 2>/dev/null)
    switch "$reply[1]"
        case ':files'
            __fish_complete_path "$current"
        case ':delegate *'
            set -l parts (string split -m 2 ' ' -- $reply[1])
            # The command's own arguments: the words after it up to the cursor, then the current word.
            set -l args
            if test (math $parts[2] + 2) -le (count $words)
                set args $words[(math $parts[2] + 2)..-1]
            end
            complete -C (string join ' ' -- (string escape -- $parts[3] $args) "$current")
        case '*'
            printf '%s\n' $reply
    end
end

complete -c with-secrets -f -a '(__with_secrets_complete)'
