# bash completion for heartbeat's tools (hb-pulse, hb-status, hb-beat, hb-notify, hb-recover,
# hb-diagnose, hb-migrate). The options are read from the tool's own --help, so they are always
# those of the installed version.

_heartbeat()
{
  local cur prev words cword
  _init_completion || return

  case "$prev" in
    --config | --prometheus | --html)
      _filedir
      return
      ;;
    --db | --from | --to)
      _filedir
      return
      ;;
    --color)
      COMPREPLY=($(compgen -W 'auto always never' -- "$cur"))
      return
      ;;
    --log-format)
      COMPREPLY=($(compgen -W 'auto text json' -- "$cur"))
      return
      ;;
  esac

  if [[ "$cur" == -* ]]; then
    local options
    options=$("$1" --help 2>/dev/null | grep -oE -- '(^|[ ,])--?[A-Za-z][A-Za-z0-9-]*' |
      sed -E 's/^[ ,]//' | sort -u)
    COMPREPLY=($(compgen -W "$options" -- "$cur"))
  fi
} &&
  complete -F _heartbeat hb-pulse hb-status hb-beat hb-notify hb-recover hb-diagnose hb-migrate
