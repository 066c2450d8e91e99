-- The MLRC draft's "TO BE WRITTEN" markers: a red, framed paragraph in LaTeX, so a part
-- still waiting for its authors cannot be missed; other formats keep the plain text.
function Div(div)
  if not div.classes:includes("to-be-written") or not FORMAT:match("latex") then
    return nil
  end
  local blocks = {pandoc.RawBlock("latex", "\\begin{center}\\fcolorbox{red}{white}{"
    .. "\\parbox{0.92\\linewidth}{\\color{red}")}
  for _, block in ipairs(div.content) do
    if block.t == "Para" then
      table.insert(blocks, pandoc.Plain(block.content))
    else
      table.insert(blocks, block)
    end
  end
  table.insert(blocks, pandoc.RawBlock("latex", "}}\\end{center}"))
  return blocks
end
