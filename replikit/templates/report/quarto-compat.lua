-- Quarto-only Markdown, made readable by plain pandoc (used by replikit.render when Quarto
-- is not installed):
--   * callouts (::: {.callout-note title="..."}) become styled boxes with their title;
--   * @fig-... cross-references become "Figure N" links, numbered in document order;
--   * figure captions get their "Figure N:" label where the writer does not number them;
--   * the {{< pagebreak >}} shortcode becomes a page break where the format has pages.

local callout_kinds = { note = true, tip = true, warning = true, important = true,
                        caution = true }
local numbers = {}

local function callout_kind(div)
  for _, class in ipairs(div.classes) do
    local kind = class:match("^callout%-(%a+)$")
    if kind and callout_kinds[kind] then return kind end
  end
  return nil
end

local function callout_title(div, kind)
  local title = div.attributes["title"]
  local content = div.content
  if not title and #content > 0 and content[1].t == "Header" then
    title = pandoc.utils.stringify(content[1])
    content = pandoc.List({ table.unpack(content, 2) })
  end
  return title or (kind:sub(1, 1):upper() .. kind:sub(2)), content
end

local typst_colours = { note = "rgb(\"#0969da\")", tip = "rgb(\"#1a7f37\")",
                        warning = "rgb(\"#bf8700\")", important = "rgb(\"#cf222e\")",
                        caution = "rgb(\"#bf8700\")" }

local function callout(div)
  local kind = callout_kind(div)
  if not kind then return nil end
  local title, content = callout_title(div, kind)
  local heading = pandoc.Para({ pandoc.Strong(pandoc.Str(title)) })
  if FORMAT:match("typst") then
    local open = "#block(width: 100%, inset: 8pt, radius: 3pt, breakable: true, "
      .. "fill: " .. typst_colours[kind] .. ".lighten(92%), stroke: (left: 3pt + "
      .. typst_colours[kind] .. "))["
    local blocks = pandoc.List({ pandoc.RawBlock("typst", open), heading })
    blocks:extend(content)
    blocks:insert(pandoc.RawBlock("typst", "]"))
    return blocks
  end
  if FORMAT:match("html") then
    local title_div = pandoc.Div({ pandoc.Plain({ pandoc.Str(title) }) },
                                 pandoc.Attr("", { "callout-title" }))
    local body = pandoc.List({ title_div })
    body:extend(content)
    return pandoc.Div(body, pandoc.Attr(div.identifier, { "callout", "callout-" .. kind }))
  end
  local body = pandoc.List({ heading })
  body:extend(content)
  return pandoc.Div(body, pandoc.Attr(div.identifier, { "callout", "callout-" .. kind }))
end

local function numbers_itself()
  return FORMAT:match("typst") or FORMAT:match("latex")
end

local function number_figures(doc)
  local count = 0
  doc:walk({
    Figure = function(fig)
      if fig.identifier ~= "" then
        count = count + 1
        numbers[fig.identifier] = count
      end
    end,
  })
end

local function label_figure(fig)
  local n = numbers[fig.identifier]
  if not n or numbers_itself() then return nil end
  local long = fig.caption.long
  if #long > 0 and long[1].t == "Plain" then
    long[1].content:insert(1, pandoc.Str("Figure " .. n .. ": "))
  end
  fig.caption.long = long
  return fig
end

local function cross_reference(cite)
  if #cite.citations ~= 1 then return nil end
  local id = cite.citations[1].id
  local n = numbers[id]
  if not n then return nil end
  return pandoc.Link({ pandoc.Str("Figure " .. n) }, "#" .. id)
end

local function pagebreak(para)
  local text = pandoc.utils.stringify(para)
  if not text:match("^{{<%s*pagebreak%s*>}}$") then return nil end
  if FORMAT:match("typst") then return pandoc.RawBlock("typst", "#pagebreak()") end
  if FORMAT:match("latex") then return pandoc.RawBlock("latex", "\\newpage{}") end
  if FORMAT:match("docx") then
    return pandoc.RawBlock("openxml", '<w:p><w:r><w:br w:type="page"/></w:r></w:p>')
  end
  return {}
end

function Pandoc(doc)
  number_figures(doc)
  doc = doc:walk({ Div = callout, Para = pagebreak })
  doc = doc:walk({ Figure = label_figure, Cite = cross_reference })
  return doc
end
