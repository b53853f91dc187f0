-- Every request a view never asked before: the year with two filters, the second one's value
-- counting up, so no answer can come from memory and each one is a computation.
counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", "/?period=year&filter=source%3DGoogle&filter=page%21%3D%2Fnothing-" .. counter .. "-" .. math.random(1, 1000000000))
end
